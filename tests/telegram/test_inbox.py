"""Polled updates go through the inbox: stored before Telegram is told they arrived, applied
from there after a crash, and gone once applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config.settings import TelegramSettings
from bot.runtime.telegram.adapter import TelegramAdapter
from bot.runtime.telegram.inbox import Stored
from bot.runtime.telegram.runner import TelegramRunner
from bot.runtime.telegram.service import make_adapter
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import InboxUpdate, TranscriptEntry
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, TelegramChannel, running_bot


async def counts(app: App) -> tuple[int, int]:
    """(updates applied, updates still in the inbox)"""
    async with app.db.session() as session:
        applied = await session.scalar(
            select(func.count()).where(TranscriptEntry.direction == "in")
        )
        stored = await session.scalar(select(func.count()).select_from(InboxUpdate))
    return int(applied or 0), int(stored or 0)


async def started(server: FakeBotAPI, transport: str, media: Path) -> TelegramAdapter[Any]:
    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=media)
    adapter = make_adapter(transport, settings, LocalMediaStore(settings.media_dir))
    await adapter.start()
    return adapter


async def store_batch(runner: TelegramRunner) -> list[tuple[Stored, Any]]:
    """One life of the bot up to the moment a fetched batch is stored and confirmed: each
    update's inbox row, and the update as the framework reads it."""
    adapter = runner.adapter
    batch = await adapter.get_updates(None, 0)
    taken = [runner.stored(data) for data in batch]
    assert adapter.identity is not None
    rows = [row for row, _ in filter(None, taken)]
    assert len(rows) == len(batch)
    await runner.inbox.store(adapter.identity.id, rows)
    await adapter.get_updates(batch[-1]["update_id"] + 1, 0)  # Telegram will not send them again
    return list(filter(None, taken))


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_every_kind_of_update_reads_the_same_after_the_inbox(
    server: FakeBotAPI, transport: str, tmp_path: Path
) -> None:
    adapter = await started(server, transport, tmp_path)
    anna = server.user(101, "Anna", "ru")
    await adapter.send_text(101, None, "Pick", [[{"text": "A", "data": "m:1"}]], html=True)
    [with_button] = server.messages_for(101)
    for update in (
        server.text_update(anna, "<b>1,5</b> & more"),
        server.photo_update(anna, size=5_000, caption="broken"),
        server.document_update(anna, mime_type="application/pdf", size=1_000),
        server.sticker_update(anna),
        server.callback_update(anna, with_button, "m:1"),
        server.text_update(anna, "in a group", chat_id=-100500),
    ):
        await server.push_update(update)
    fetched = await adapter.get_updates(None, 0)
    assert len(fetched) == 6
    for data in fetched:
        assert adapter.read(adapter.parse_update(data)) is not None
    await adapter.close()


async def test_updates_stored_before_a_crash_are_applied_in_order_at_the_next_start(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    # First life: a batch is stored in the inbox and confirmed to Telegram, then the process
    # dies before applying any of it.
    adapter = await started(server, mode.transport, tmp_path)
    anna = server.user(101, "Anna", "en")
    await server.push_update(server.text_update(anna, "/start"))
    await server.push_update(server.text_update(anna, "/help"))
    await store_batch(TelegramRunner(engine=app.engine, adapter=adapter))
    await adapter.close()
    assert await counts(app) == (0, 2)

    # Second life (polling or webhook): Telegram has nothing for it, the inbox has both.
    async with running_bot(app, server, mode, media_dir=tmp_path):
        await TelegramChannel(app, server).settled()
    shown = [m.plain for m in server.messages_for(101)]
    assert len(shown) == 2
    assert "What do you need?" in shown[0] and "I handle problems" in shown[1]
    assert await counts(app) == (2, 0)


async def test_an_update_applied_and_not_yet_removed_is_not_applied_again(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    adapter = await started(server, "aiogram", tmp_path)
    runner = TelegramRunner(engine=app.engine, adapter=adapter)
    await server.push_update(server.text_update(server.user(101, "Anna", "en"), "/start"))
    [(row, update)] = await store_batch(runner)
    await runner.handle(update, row.data)  # applied; the process dies before removing it
    await adapter.close()
    assert await counts(app) == (1, 1)

    async with running_bot(app, server, Mode("ptb", webhook=False), media_dir=tmp_path):
        await TelegramChannel(app, server).settled()
    assert sum("What do you need?" in m.plain for m in server.messages_for(101)) == 1
    assert await counts(app) == (1, 0)
