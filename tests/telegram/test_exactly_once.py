"""Nothing a user sends is processed twice or lost, even across a crash; every reply owed is
delivered once, within Telegram's limits, through 429s, 5xx and dropped connections."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from bot.config.settings import SenderSettings, TelegramSettings
from bot.engine.events import Author
from bot.runtime.telegram.runner import TelegramRunner
from bot.runtime.telegram.service import make_adapter
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import OutboxMessage, TranscriptEntry
from bot.testing.botapi import FakeBotAPI, SentMessage
from bot.testing.telegram import Mode, TelegramChannel, running_bot


def welcomes(server: FakeBotAPI, chat_id: int) -> int:
    return sum("What do you need?" in m.plain for m in server.messages_for(chat_id))


async def processed(app: App) -> int:
    async with app.db.session() as session:
        updates = select(func.count()).where(TranscriptEntry.direction == "in")
        return int(await session.scalar(updates) or 0)


async def test_a_replayed_update_id_is_acknowledged_and_ignored(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    async with running_bot(app, server, mode, media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        update = server.text_update(server.user(101, "Anna", "en"), "/start")
        update["update_id"] = server.next_update_id()
        for _ in range(3):  # Telegram delivers the same update again when it saw no answer
            await server.wait_delivered(await server.push_update(update))
            await channel.settled()
    assert welcomes(server, 101) == 1
    assert await processed(app) == 1


async def test_a_crash_after_storing_and_before_sending_loses_nothing_and_sends_once(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    # First life: the update is applied and its reply stored, then the process dies before its
    # sender ran (no sender is started here at all).
    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=tmp_path)
    adapter = make_adapter(mode.transport, settings, LocalMediaStore(settings.media_dir))
    await adapter.start()
    runner = TelegramRunner(engine=app.engine, adapter=adapter)
    await server.push_update(server.text_update(server.user(101, "Anna", "en"), "/start"))
    [pending] = await adapter.get_updates(None, 0)
    await runner.handle(adapter.parse_update(pending), pending)
    await adapter.close()
    assert server.messages_for(101) == []

    # Second life: the reply owed is delivered, once; the update, fetched again because it was
    # never confirmed, is not applied twice.
    async with running_bot(app, server, mode, media_dir=tmp_path):
        await TelegramChannel(app, server).settled()
        await asyncio.sleep(0.2)
    assert welcomes(server, 101) == 1
    assert await processed(app) == 1


async def test_a_sender_that_died_mid_send_is_replaced_when_its_lease_ends(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    mode = Mode("aiogram", webhook=False)
    now = app.clock.now()
    async with running_bot(app, server, mode, media_dir=tmp_path):
        # A row another sender claimed and never finished: held until its lease ends.
        async with app.db.transaction() as session:
            session.add(
                OutboxMessage(
                    chat_id=101,
                    text="Your refund was sent.",
                    status="sending",
                    next_attempt_at=now,
                    locked_until=now + _minutes(2),
                    created_at=now,
                )
            )
        app.engine.listeners[0]()  # wake the sender, as a new update would
        await asyncio.sleep(0.3)
        assert server.messages_for(101) == []
        app.clock.advance(_minutes(3))  # type: ignore[attr-defined]  # a FakeClock
        app.engine.listeners[0]()
        await TelegramChannel(app, server).settled()
    # It may or may not have gone out before the other sender died: no API can tell, so it is
    # sent (again). Then it is in the transcript, once.
    assert [m.plain for m in server.messages_for(101)] == ["Your refund was sent."]
    async with app.db.session() as session:
        out = select(func.count()).where(TranscriptEntry.direction == "out")
        assert await session.scalar(out) == 1


async def test_a_429_storm_delays_replies_but_loses_and_repeats_none(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    mode = Mode("ptb", webhook=False)
    async with running_bot(app, server, mode, media_dir=tmp_path) as service:
        channel = TelegramChannel(app, server)
        server.fail_next("sendMessage", "429", times=3, retry_after=1)
        await channel.text(_sender(101), 101, "/start", None)
        await channel.text(_sender(102), 102, "/start", None)
        assert service.sender.retries_after == 3
    assert server.responses_429 == 3
    assert welcomes(server, 101) == 1 and welcomes(server, 102) == 1


async def test_server_errors_and_dropped_connections_are_retried(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    async with running_bot(app, server, Mode("aiogram", webhook=True), media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        server.fail_next("sendMessage", "500", times=1)
        server.fail_next("sendMessage", "drop", times=1)
        await channel.text(_sender(101), 101, "/start", None)
    assert welcomes(server, 101) == 1
    assert server.calls["sendMessage"] == 3  # failed, dropped, delivered
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_a_blocked_chat_fails_its_message_and_holds_up_no_one(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    server.block_chat(102)
    async with running_bot(app, server, Mode("aiogram", webhook=False), media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        await channel.text(_sender(102), 102, "/start", None)
        await channel.text(_sender(101), 101, "/start", None)
    assert welcomes(server, 101) == 1
    async with app.db.session() as session:
        statuses = dict(
            (await session.execute(select(OutboxMessage.chat_id, OutboxMessage.status))).all()
        )
    assert statuses == {102: "failed"}  # delivered rows leave the outbox; this one stays


async def test_one_chats_updates_apply_in_order_while_chats_run_in_parallel(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    commands = ["/help", "/orders", "/language", "/help", "/orders"]
    async with running_bot(app, server, mode, media_dir=tmp_path):
        ids = []
        for command in commands:
            for user_id in (101, 102):
                ids.append(
                    await server.push_update(
                        server.text_update(server.user(user_id, "U", "en"), command)
                    )
                )
        for update_id in ids:
            await server.wait_delivered(update_id)
        await TelegramChannel(app, server).settled()
    for chat in (101, 102):
        shown = [m.plain for m in server.messages_for(chat)]
        kinds = [
            "help" if "I handle problems" in t else "orders" if "orders" in t else "language"
            for t in shown
        ]
        assert kinds == ["help", "orders", "language", "help", "orders"]


async def test_the_default_limits_drain_a_backlog_without_a_single_429(
    app: App, tmp_path: Path
) -> None:
    """Telegram's limits as settings, scaled up 20x for a quick test: the sender keeps to them
    and the server, enforcing the same limits, never answers 429."""
    limits = SenderSettings(per_chat_per_second=20, global_per_second=200, group_per_minute=400)
    async with FakeBotAPI(
        enforce_limits=True,
        per_chat_per_second=20,
        per_chat_burst=2,
        global_per_second=200,
    ) as server:
        async with running_bot(
            app, server, Mode("aiogram", webhook=False), media_dir=tmp_path, sender=limits
        ):
            channel = TelegramChannel(app, server)
            for user_id in (101, 102, 103):
                for _ in range(4):
                    await server.push_update(
                        server.text_update(server.user(user_id, "U", "en"), "/help")
                    )
            await asyncio.sleep(0.1)
            await channel.settled()
        assert server.responses_429 == 0
        assert sum(len(server.messages_for(c)) for c in (101, 102, 103)) == 12


async def test_a_chat_held_back_by_its_limit_holds_back_no_other_chat(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    """A busy chat (a decider's, a support group's) waits for its own limit; a buyer's reply
    written meanwhile goes out at once, not after the busy chat's backlog."""
    limits = SenderSettings(per_chat_per_second=4, global_per_second=100, group_per_minute=600)
    busy, buyer = server.user(102, "Busy", "en"), server.user(101, "Buyer", "en")
    backlog_in_hand = asyncio.Event()
    replied: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def sent(message: SentMessage) -> None:
        if message.chat_id == 102 and len(server.messages_for(102)) >= 2:
            backlog_in_hand.set()  # the rest of the backlog is being sent
        if message.chat_id == 101 and not replied.done():
            replied.set_result(len(server.messages_for(102)))

    server.on_sent.append(sent)
    async with running_bot(
        app, server, Mode("aiogram", webhook=False), media_dir=tmp_path, sender=limits
    ):
        for _ in range(6):
            await server.push_update(server.text_update(busy, "/help"))
        await asyncio.wait_for(backlog_in_hand.wait(), 10)
        await server.push_update(server.text_update(buyer, "/start"))
        busy_so_far = await asyncio.wait_for(replied, 10)
        await TelegramChannel(app, server).settled()
    assert busy_so_far < 6  # the buyer did not wait for the busy chat's backlog
    assert len(server.messages_for(102)) == 6


def _sender(user_id: int) -> Author:
    return Author(user_id, f"User {user_id}", "en")


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
