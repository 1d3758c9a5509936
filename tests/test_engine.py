"""The engine: one update, one transaction; a failure is recorded, answered and not repeated."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.engine.events import Incoming
from bot.storage.database import application_name
from bot.storage.models import Buyer, Conversation, OutboxMessage, TranscriptEntry
from tests.desk import Desk


async def test_a_bug_in_a_handler_rolls_back_answers_politely_and_is_not_retried(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await anna.send("/start")

    async def broken(ctx, data):  # type: ignore[no-untyped-def]
        ctx.actor.buyer.name = "changed by a broken handler"
        raise RuntimeError("boom")

    router = desk.sandbox.app.engine.router
    prefix = "m"
    monkeypatch.setitem(router.payloads, prefix, (router.payloads[prefix][0], broken))
    payload = anna.button("Something is wrong")
    first = await anna.press(payload, key="tg:7")
    replay = await anna.press(payload, key="tg:7")
    assert first.failed and replay.duplicate
    assert "something went wrong on our side" in anna.last.plain
    async with desk.db.session() as session:
        buyer = await session.get(Buyer, anna.user_id)
        assert buyer is not None and buyer.name == "Anna"
    monkeypatch.undo()
    await anna.click("Something is wrong")
    assert f"#{order.number}" in " ".join(anna.last.labels)


async def test_a_new_chats_first_two_updates_at_once_make_one_chat_and_both_count(
    desk: Desk,
) -> None:
    """Neither finds a row for the chat: one inserts it, the other waits for that insert's
    commit and then reads the row (on SQLite they take turns, and the second finds it)."""
    anna = desk.buyer("anna")
    events = [
        Incoming(key=f"first:{n}", author=anna.author, chat_id=anna.chat_id, text=text)
        for n, text in enumerate(("/start", "/help"))
    ]
    engine = desk.sandbox.app.engine
    outcomes = await asyncio.gather(*(engine.process(event) for event in events))
    applied = [(o.duplicate, o.failed, bool(o.replies)) for o in outcomes]
    assert applied == [(False, False, True)] * 2
    async with desk.db.session() as session:
        chats = await session.scalar(
            select(func.count()).where(Conversation.chat_id == anna.chat_id)
        )
        claimed = await session.scalar(
            select(func.count()).where(
                TranscriptEntry.chat_id == anna.chat_id, TranscriptEntry.direction == "in"
            )
        )
    assert (chats, claimed) == (1, 2)


async def test_every_message_in_and_out_is_in_the_transcript(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await desk.order()
    await anna.send("/start")
    await anna.click("My orders")
    async with desk.db.session() as session:
        rows = (
            await session.execute(
                select(
                    TranscriptEntry.direction, TranscriptEntry.text, TranscriptEntry.template
                ).order_by(TranscriptEntry.id)
            )
        ).all()
        sent = await session.scalar(
            select(func.count()).where(TranscriptEntry.delivered_at.is_not(None))
        )
        owed = await session.scalar(select(func.count()).select_from(OutboxMessage))
        updates = await session.scalar(
            select(func.count()).where(TranscriptEntry.direction == "in")
        )
    assert [(d, t) for d, _, t in rows] == [
        ("in", None),
        ("out", "buyer/welcome"),
        ("in", None),
        ("out", "buyer/orders"),
    ]
    assert rows[0][1] == "/start"
    assert (sent, owed, updates) == (2, 0, 2)


async def test_nothing_is_sent_before_the_update_is_stored(desk: Desk) -> None:
    """The engine only writes the outbox; delivery happens after the commit."""
    anna = desk.buyer("anna")
    outcome = await desk.sandbox.app.engine.process(
        Incoming(key="k1", author=anna.author, chat_id=anna.chat_id, text="/start")
    )
    assert outcome.replies and anna.inbox == []
    async with desk.db.session() as session:
        pending = await session.scalar(
            select(func.count()).where(OutboxMessage.status == "pending")
        )
    assert pending == 1
    await desk.deliver()
    assert "Hello" in anna.last.plain


async def test_a_restarted_database_costs_no_update_and_no_reply(desk: Desk) -> None:
    if desk.db.is_sqlite:
        pytest.skip("a file has no server to restart")
    anna = desk.buyer("anna")
    await desk.order()
    await anna.send("/start")
    # What a restart of the server does to the pool: every connection in it is closed. Only
    # this test's own are (by their application_name), not another test run's on the server.
    admin = create_async_engine(desk.db.url)
    async with admin.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND application_name = :name"
            ),
            {"name": application_name(desk.db.schema)},
        )
    await admin.dispose()
    assert killed
    outcome = await anna.send("/help")
    assert not outcome.failed and not outcome.duplicate
    assert "I handle problems" in anna.last.plain
    async with desk.db.session() as session:
        updates = select(func.count()).where(TranscriptEntry.direction == "in")
        assert await session.scalar(updates) == 2
