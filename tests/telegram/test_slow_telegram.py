"""When Telegram is slow to answer, nothing goes out twice: the clients wait longer than
Telegram takes, a send that still gets no answer is recorded as maybe delivered (Telegram may
have it) rather than sent again, and a row's parts already sent are not sent again when a later
part fails."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.engine.events import Author
from bot.runtime.outbox.limits import RateLimiter
from bot.runtime.outbox.sender import OutboxSender
from bot.runtime.telegram.adapter import TelegramAdapter
from bot.runtime.telegram.aiogram_adapter import AiogramAdapter
from bot.runtime.telegram.ptb_adapter import PtbAdapter
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import OutboxMessage, TranscriptEntry
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, TelegramChannel, running_bot

TRANSPORTS = ["aiogram", "ptb"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_replies_telegram_answers_late_go_out_once(
    app: App, server: FakeBotAPI, transport: str, tmp_path: Path
) -> None:
    # Longer than python-telegram-bot's own 5 s read timeout, well inside Telegram's worst.
    server.slow_next("sendMessage", 6.0, times=2)
    async with running_bot(app, server, Mode(transport, webhook=False), media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        await channel.text(Author(101, "Anna", "en"), 101, "/start", None)
        await channel.text(Author(102, "Boris", "en"), 102, "/start", None)
    for chat in (101, 102):
        assert [m.plain.startswith("Hello") for m in server.messages_for(chat)] == [True]
    assert server.calls["sendMessage"] == 2


def adapter(
    transport: str, server: FakeBotAPI, media: Path, **options: Any
) -> TelegramAdapter[Any]:
    kind = AiogramAdapter if transport == "aiogram" else PtbAdapter
    return kind(
        token=server.token,
        api_url=server.base_url,
        media=LocalMediaStore(media),
        max_photo_bytes=1_000_000,
        **options,
    )


async def deliver(app: App, transport: TelegramAdapter[Any], text: str) -> None:
    """One outbox row for chat 101, delivered by a sender on `transport`."""
    await transport.start()
    now = app.clock.now()
    async with app.db.transaction() as session:
        session.add(OutboxMessage(chat_id=101, text=text, next_attempt_at=now, created_at=now))
    limiter = RateLimiter(per_chat_per_second=1000, global_per_second=1000)
    sender = OutboxSender(db=app.db, transport=transport, clock=app.clock, limiter=limiter)
    try:
        await sender.drain()
    finally:
        await transport.close()


async def transcript(app: App) -> list[int | None]:
    """The message ids of what the transcript says went out; the outbox must be empty."""
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        out = select(TranscriptEntry.message_id).where(TranscriptEntry.direction == "out")
        return list((await session.scalars(out)).all())


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_send_left_unanswered_is_recorded_as_maybe_delivered_and_not_repeated(
    app: App,
    server: FakeBotAPI,
    transport: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Telegram takes the message and answers after the client stopped waiting.
    server.slow_next("sendMessage", 2.0)
    with caplog.at_level(logging.WARNING):
        await deliver(app, adapter(transport, server, tmp_path, answer_timeout=1.0), "Agreed.")
    assert [m.plain for m in server.messages_for(101)] == ["Agreed."]
    assert server.calls["sendMessage"] == 1
    assert await transcript(app) == [None]  # delivered, with no message id: maybe
    [warning] = [r for r in caplog.records if "not sent again" in r.getMessage()]
    assert warning.levelno == logging.WARNING


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_parts_of_a_long_reply_already_sent_are_not_sent_again(
    app: App, server: FakeBotAPI, transport: str, tmp_path: Path
) -> None:
    first, second = "a" * 4000, "b" * 100
    server.fail_next("sendMessage", "500", after=1)  # the second part, once
    await deliver(app, adapter(transport, server, tmp_path), f"{first}\n{second}")
    assert [m.plain for m in server.messages_for(101)] == [first, second]
    assert server.calls["sendMessage"] == 3
    assert await transcript(app) == [server.messages_for(101)[-1].message_id]
