"""Updates are kept as the JSON Telegram sent, so whatever Telegram puts in them (fields the
frameworks fill with defaults of their own, like `link_preview_options`) cannot stop the bot;
and one update the bot cannot read or store is set aside without holding up its batch."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.clock import FakeClock
from bot.runtime.telegram.runner import TelegramRunner
from bot.storage.database import Database
from bot.storage.models import InboxUpdate
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, TelegramChannel, running_bot
from tests.desk import Desk
from tests.telegram.test_inbox import started

NO_PREVIEW = {"is_disabled": True}
# What Telegram sends on a buyer's message whose link preview they moved to a smaller picture.
CHANGED_PREVIEW = {"url": "https://example.com/kettle", "prefer_small_media": True}


async def test_buttons_under_messages_sent_without_a_preview_keep_working(
    db: Database, clock: FakeClock, tmp_path: Path, mode: Mode
) -> None:
    async with Desk.on_telegram(db, clock, tmp_path, mode) as desk:
        server = desk.telegram.server
        anna = desk.buyer("anna")
        order = await desk.order(items=[("Kettle", 1, "5000")])
        await anna.send("/start")
        # Telegram returns the options the bot sent with, on the message and in every button
        # press on it.
        [welcome] = server.messages_for(anna.author.id)
        assert welcome.to_json()["link_preview_options"] == NO_PREVIEW
        await anna.tap("menu_problem")
        await anna.click(f"#{order.number}")
        await anna.tap("reason", reason="defect")
        await anna.tap("want", want="keep")  # each tap finds its button in the bot's answer
        assert "photo" in anna.last.plain


async def test_a_buyers_message_with_changed_preview_options_is_answered(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    async with running_bot(app, server, mode, media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        anna = server.user(101, "Anna", "en")
        for options in (NO_PREVIEW, CHANGED_PREVIEW):
            update = server.text_update(
                anna, "/start https://example.com/kettle", link_preview_options=options
            )
            await server.wait_delivered(await server.push_update(update))
            await channel.settled()
    assert [m.plain.startswith("Hello") for m in server.messages_for(101)] == [True, True]


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_the_inbox_keeps_each_update_exactly_as_telegram_sent_it(
    app: App, server: FakeBotAPI, transport: str, tmp_path: Path
) -> None:
    adapter = await started(server, transport, tmp_path)
    anna = server.user(101, "Anna", "en")
    await adapter.send_text(101, None, "Pick", [[{"text": "A", "data": "m:1"}]], html=True)
    [with_button] = server.messages_for(101)
    pushed = [
        server.text_update(anna, "see https://example.com", link_preview_options=CHANGED_PREVIEW),
        server.callback_update(anna, with_button, "m:1"),
    ]
    for update in pushed:
        update["update_id"] = await server.push_update(update)
    runner = TelegramRunner(engine=app.engine, adapter=adapter)
    await runner._store(await adapter.get_updates(None, 0))
    await runner.lanes.idle()
    await adapter.close()
    async with app.db.session() as session:
        kept = (await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
    assert [row.data for row in kept] == pushed
    assert kept[1].data["callback_query"]["message"]["link_preview_options"] == NO_PREVIEW


def unreadable(server: FakeBotAPI) -> dict[str, object]:
    """An update neither framework can read: a date that is not a Unix time."""
    update = server.text_update(server.user(102, "Boris", "en"), "/start")
    broken = copy.deepcopy(update)
    broken["message"]["date"] = "tomorrow"
    return broken


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_an_update_that_cannot_be_read_is_set_aside_and_its_batch_goes_on(
    app: App,
    server: FakeBotAPI,
    transport: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # (A webhook call holds one update: one that cannot be read gets 400, see test_details.)
    mode = Mode(transport, webhook=False)
    anna = server.user(101, "Anna", "en")
    # One batch: a good update on each side of the one that cannot be read.
    await server.push_update(server.text_update(anna, "/start"))
    bad = await server.push_update(unreadable(server))
    await server.push_update(server.text_update(anna, "/help"))
    with caplog.at_level(logging.ERROR):
        async with running_bot(app, server, mode, media_dir=tmp_path):
            channel = TelegramChannel(app, server)
            await server.wait_delivered(bad)  # confirmed to Telegram with its batch
            await channel.settled()
    shown = [m.plain for m in server.messages_for(101)]
    assert len(shown) == 2
    assert "What do you need?" in shown[0] and "I handle problems" in shown[1]
    assert server.messages_for(102) == []
    [set_aside] = [r for r in caplog.records if "left out" in r.getMessage()]
    assert set_aside.levelno == logging.ERROR
    assert '"date": "tomorrow"' in set_aside.getMessage()


async def test_an_update_the_database_cannot_store_is_set_aside_and_its_batch_goes_on(
    app: App, server: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if app.db.is_sqlite:
        pytest.skip("SQLite keeps any JSON; PostgreSQL's jsonb refuses a NUL character")
    anna = server.user(101, "Anna", "en")
    await server.push_update(server.text_update(anna, "/start"))
    bad = await server.push_update(server.text_update(server.user(102, "Boris"), "a\x00b"))
    await server.push_update(server.text_update(anna, "/help"))
    with caplog.at_level(logging.ERROR):
        async with running_bot(app, server, Mode("aiogram", webhook=False), media_dir=tmp_path):
            await server.wait_delivered(bad)
            await TelegramChannel(app, server).settled()
    assert len(server.messages_for(101)) == 2
    assert server.messages_for(102) == []
    assert any("could not be stored" in r.getMessage() for r in caplog.records)
