"""How the sender claims the outbox: a long backlog of one chat a few rows at a time (so no
claimed row can wait for its chat's limit longer than its lease, and be claimed, and sent, a
second time); a chat's rows in order, behind an earlier row that waits; and four senders sharing
one outbox, each row once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.engine.events import Upload
from bot.runtime.outbox import sender as outbox
from bot.runtime.outbox.limits import NoLimits
from bot.sandbox.memory import MemoryTransport
from bot.storage.database import Database
from bot.storage.stores.outbox import OutboxStore


async def _owe(db: Database, clock: FakeClock, chat_id: int, texts: list[str]) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(outbox.OUTBOX),
            [
                {
                    "chat_id": chat_id,
                    "text": text,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": clock.now(),
                    "created_at": clock.now(),
                }
                for text in texts
            ],
        )


async def test_a_chats_backlog_is_claimed_a_few_rows_at_a_time_and_sent_once_in_order(
    db: Database, clock: FakeClock
) -> None:
    backlog = [f"message {n}" for n in range(8)]
    await _owe(db, clock, 101, backlog)
    await _owe(db, clock, 102, ["for someone else"])
    transport = MemoryTransport()
    sender = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())

    delivered, claimed = await sender.deliver_due()
    assert (delivered, claimed) == (outbox.PER_CHAT + 1, outbox.PER_CHAT + 1)
    assert await sender.drain() == len(backlog) - outbox.PER_CHAT

    assert [m.text for m in transport.chats[101]] == backlog
    assert [m.text for m in transport.chats[102]] == ["for someone else"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(outbox.OUTBOX)) == 0
        # Each left for the transcript with the id the messenger gave it, as it was delivered.
        transcript = select(
            outbox.TRANSCRIPT.c.chat_id,
            outbox.TRANSCRIPT.c.text,
            outbox.TRANSCRIPT.c.message_id,
            outbox.TRANSCRIPT.c.delivered_at,
        ).order_by(outbox.TRANSCRIPT.c.message_id)
        assert (await session.execute(transcript)).all() == [
            (m.chat_id, m.text, m.message_id, clock.now()) for m in transport.log
        ]


async def test_a_row_waits_behind_an_earlier_row_of_its_chat_that_waits(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    later, earlier = now + timedelta(minutes=1), now - timedelta(minutes=1)
    rows = [
        (101, "pending", later, None),  # to be retried in a minute
        (101, "pending", now, None),  # due, but behind it
        (102, "sending", now, later),  # another sender holds it
        (102, "pending", now, None),
        (103, "failed", now, None),  # given up: holds nothing back
        (103, "pending", now, None),
        (104, "sending", now, earlier),  # its sender's lease ran out: taken over
        (104, "pending", now, None),
    ]
    async with db.transaction() as session:
        await session.execute(
            insert(outbox.OUTBOX),
            [
                {
                    "chat_id": chat_id,
                    "text": f"{chat_id} {n}",
                    "status": status,
                    "attempts": 0,
                    "next_attempt_at": next_attempt_at,
                    "locked_until": locked_until,
                    "created_at": now,
                }
                for n, (chat_id, status, next_attempt_at, locked_until) in enumerate(rows)
            ],
        )
    transport = MemoryTransport()
    sender = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())

    await sender.deliver_due()

    assert [m.text for m in transport.log] == ["103 5", "104 6", "104 7"]


async def test_four_senders_share_one_outbox_and_deliver_each_row_once_in_order(
    db: Database, clock: FakeClock
) -> None:
    chats = {chat_id: [f"{chat_id}: {n}" for n in range(5)] for chat_id in range(201, 241)}
    for chat_id, texts in chats.items():
        await _owe(db, clock, chat_id, texts)
    transport = MemoryTransport()
    senders = [
        outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits(), batch=7)
        for _ in range(4)
    ]

    await asyncio.gather(*(sender.drain() for sender in senders))

    assert len(transport.log) == sum(len(texts) for texts in chats.values())
    for chat_id, texts in chats.items():
        assert [m.text for m in transport.chats[chat_id]] == texts
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(outbox.OUTBOX)) == 0


async def test_a_claim_skips_a_chat_another_claim_is_taking_and_never_waits_for_it(
    db: Database, clock: FakeClock
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: two claims cannot overlap there")
    await _owe(db, clock, 301, [f"301: {n}" for n in range(5)])
    now = clock.now()
    claiming = {"now": now, "until": now + outbox.LEASE}
    # The second claim would take five rows of a chat: all of 301's unless the chat is whole.
    first_claim = OutboxStore(postgresql=True, batch=200, per_chat=3)
    second_claim = OutboxStore(postgresql=True, batch=200, per_chat=5)

    async with db.transaction() as first:
        taken = await first_claim.claim(first, {**claiming, "holder": "first"})
        assert [row.chat_id for row in taken] == [301, 301, 301]
        await _owe(db, clock, 302, ["302: 0"])
        async with db.transaction() as second:
            # The first claim's transaction is still open: the second does not wait for it.
            taken = await asyncio.wait_for(
                second_claim.claim(second, {**claiming, "holder": "second"}), timeout=5
            )
        assert [row.chat_id for row in taken] == [302]

    # Once the first has committed, 301's last rows still wait behind its first three.
    async with db.transaction() as third:
        assert await second_claim.claim(third, {**claiming, "holder": "third"}) == []


async def test_files_the_bot_made_wait_in_the_outbox_row_and_a_new_sender_sends_them(
    db: Database, clock: FakeClock
) -> None:
    chart = Upload("photo", "cases.png", b"\x89PNG cases")
    csv = Upload("document", "report.csv", b"seller,cases\nacme,12\n")
    async with db.transaction() as session:
        row = {
            "chat_id": 101,
            "text": "November",
            "files": [chart.to_json(), csv.to_json()],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": clock.now(),
            "created_at": clock.now(),
        }
        await session.execute(insert(outbox.OUTBOX), [row])
    # A sender started after the row was written (a restart) finds the files in it.
    transport = MemoryTransport()
    sender = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())

    assert await sender.drain() == 1
    [delivered] = transport.chats[101]
    assert delivered.uploads == (
        ("photo", "cases.png", chart.content),
        ("document", "report.csv", csv.content),
    )
