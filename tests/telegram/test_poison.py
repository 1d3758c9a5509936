"""An update that keeps failing is set aside with its error, its person is told, the operator
gets an ERROR line, and its chat goes on; a database that does not answer is waited out, and
counts against no update (docs/poison-updates.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.runtime.telegram import runner
from bot.storage.database import Database
from bot.storage.models import DeadLetter, Evidence, InboxUpdate
from bot.testing.telegram import Mode
from tests.desk import Desk
from tests.telegram.test_details import at_the_photo_step

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1


async def dead_letters(db: Database) -> list[DeadLetter]:
    async with db.session() as session:
        return list(await session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


async def test_an_update_that_keeps_failing_is_set_aside_and_its_chat_goes_on(
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    mode: Mode,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(runner, "TRY_AGAIN", 0.01)
    async with Desk.on_telegram(db, clock, tmp_path, mode) as desk:
        server = desk.telegram.server
        anna, ivan = await at_the_photo_step(desk), desk.buyer("ivan")
        server.fail_next("getFile", "500", times=1_000_000)  # Telegram never hands it over
        with caplog.at_level(logging.WARNING, logger="bot"):
            await anna.send_photo(size=60_000)  # the webhook is answered 200: not sent again
        assert anna.last.plain == desk.text("common/set_aside", "en")
        [letter] = await dead_letters(desk.db)
        assert (letter.chat_id, letter.attempts) == (anna.chat_id, runner.ATTEMPTS)
        assert letter.data["message"]["photo"] and "TemporaryError" in letter.error
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and f"set aside as dead letter {letter.id}" in errors[0]
        if not mode.webhook:
            assert server.pending_updates() == 0  # confirmed to Telegram, and out of the inbox
        await anna.send("/start")  # her chat goes on
        assert "My orders" in anna.last.labels
        await ivan.send("/start")  # and so does everyone else's
        assert "Мои заказы" in ivan.last.labels
        async with desk.db.session() as session:
            assert (await session.scalars(select(Evidence))).all() == []
            assert await session.scalar(select(func.count()).select_from(InboxUpdate)) == 0


async def test_a_russian_buyer_is_told_in_russian(
    db: Database, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "TRY_AGAIN", 0.01)
    async with Desk.on_telegram(db, clock, tmp_path, Mode("ptb", webhook=False)) as desk:
        ivan = desk.buyer("ivan")
        await ivan.send("/start")
        desk.telegram.server.fail_next("getFile", "502", times=1_000_000)
        await ivan.send_photo(size=60_000)
        assert ivan.last.plain == desk.text("common/set_aside", "ru")


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_stopping_does_not_wait_for_an_update_between_tries(
    db: Database, clock: FakeClock, tmp_path: Path, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while an update waits for its next try: the bot stops at once, and the update
    stays in the inbox for the next start."""
    monkeypatch.setattr(runner, "TRY_AGAIN", 60.0)
    monkeypatch.setattr(runner, "RETRY_PAUSE", 60.0)  # what the pause was called before
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:
        server = desk.telegram.server
        anna = desk.buyer("anna")
        await anna.send("/start")
        server.fail_next("getFile", "500", times=1_000_000)
        user = server.user(anna.user_id, anna.name, anna.language_code)
        await server.push_update(server.photo_update(user, size=60_000))
        while server.calls["getFile"] == 0:  # noqa: ASYNC110 - the server's count, no event
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # it failed once and waits
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InboxUpdate)) == 1
    assert await dead_letters(db) == []


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_a_database_that_does_not_answer_is_waited_for_and_counts_against_no_update(
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    transport: str,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(runner, "TRY_AGAIN", 0.01)
    monkeypatch.setattr(runner, "RETRY_PAUSE_CAP", 0.05)
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:
        server, engine = desk.telegram.server, desk.sandbox.app.engine
        anna = desk.buyer("anna")
        user = server.user(anna.user_id, anna.name, anna.language_code)
        away = Database(UNREACHABLE)
        engine.db = away  # the database goes away after the update was stored
        try:
            with caplog.at_level(logging.WARNING, logger="bot"):
                await server.push_update(server.text_update(user, "/start"))
                # More failures than would set an update aside, had they counted.
                while caplog.text.count("does not answer") < 3 * runner.ATTEMPTS:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        finally:
            engine.db = db  # and comes back
            await away.dispose()
        await desk.telegram.settled()
        assert "My orders" in anna.last.labels  # applied once, when it could be
        assert await dead_letters(db) == []
        assert "set aside" not in caplog.text


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_an_update_left_in_the_inbox_that_cannot_be_read_is_set_aside_at_start(
    db: Database, clock: FakeClock, tmp_path: Path, transport: str
) -> None:
    """Once stored, an update the framework can no longer read (after an upgrade, say) would
    fail at every start; it is set aside with what it was, and the bot starts."""
    unreadable = {"update_id": 9, "message": {"text": "no chat, no date, no id"}}
    async with db.transaction() as session:
        session.add(
            InboxUpdate(
                key="tg:123456:9",
                bot_id=123456,  # the fake Bot API's
                update_id=9,
                chat_id=101,
                received_at=clock.now(),
                data=unreadable,
            )
        )
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:
        anna = desk.buyer("anna")
        await desk.telegram.settled()
        [letter] = await dead_letters(desk.db)
        assert (letter.key, letter.data, letter.chat_id) == ("tg:123456:9", unreadable, 101)
        assert anna.last.plain == desk.text("common/set_aside", "en")
        await anna.send("/start")
        assert "My orders" in anna.last.labels
