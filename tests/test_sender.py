"""The sender takes a long backlog of one chat a few rows at a time, so no claimed row can wait
for its chat's limit longer than its lease (and be claimed, and sent, a second time)."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.delivery import sender as outbox
from bot.delivery.limits import NoLimits
from bot.sandbox.memory import MemoryTransport
from bot.storage.database import Database


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
    sender = outbox.Sender(db=db, transport=transport, clock=clock, limiter=NoLimits())

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
