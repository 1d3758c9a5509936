"""Every update takes its row locks in one order (docs/locking.md), so two updates at once wait
for each other but never deadlock; one that still meets a deadlock or a serialization failure is
run again from the start, on a new transaction, and recorded once.

The deadlock tests line the two updates up with a third connection that holds a row lock
until both are waiting, so the interleaving that deadlocked is the one that runs, every time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.domain.enums import OfferStatus
from bot.domain.money import Money
from bot.engine.events import Incoming, Outcome
from bot.sandbox import Participant
from bot.storage.models import TranscriptEntry
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

_BLOCKED = text(
    "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
    "WHERE cardinality(pg_blocking_pids(pid)) > 0"
)


@asynccontextmanager
async def holding(desk: Desk, statement: str, **parameters: Any) -> AsyncIterator[_Holder]:
    """A connection of its own that has run `statement` (a row lock) in an open transaction."""
    engine = create_async_engine(
        desk.db.url, connect_args={"server_settings": {"search_path": desk.db.schema or "public"}}
    )
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(text(statement), parameters)
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            yield _Holder(connection, pid)
            if transaction.is_active:
                await transaction.commit()
    finally:
        await engine.dispose()


class _Holder:
    def __init__(self, connection: AsyncConnection, pid: int) -> None:
        self.connection = connection
        self.pid = pid

    async def waiting(self, count: int) -> set[int]:
        """Wait until `count` backends wait, directly or through another, for this one."""
        for _ in range(500):
            # The statistics views keep one snapshot a transaction unless told to let go.
            await self.connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            edges = (await self.connection.execute(_BLOCKED)).all()
            behind = {self.pid}
            while True:
                more = {pid for pid, blockers in edges if behind & set(blockers)} - behind
                if not more:
                    break
                behind |= more
            if len(behind) - 1 >= count:
                return behind - {self.pid}
            await asyncio.sleep(0.01)
        raise AssertionError(f"{count} updates never waited for the held lock")


def pressed(person: Participant, payload: str, key: str) -> Incoming:
    return Incoming(
        key=key, sender=person.sender, chat_id=person.chat_id, payload=payload, callback_id=key
    )


async def in_turn(
    desk: Desk, holder: _Holder, first: Awaitable[Outcome], second: Awaitable[Outcome]
) -> tuple[Outcome, Outcome]:
    """`first` starts and waits behind the held lock, then `second` starts and waits (behind it,
    or behind the held lock); then the lock is let go."""
    one = asyncio.ensure_future(first)
    await holder.waiting(1)
    two = asyncio.ensure_future(second)
    await holder.waiting(2)
    await holder.connection.commit()
    return await one, await two


async def test_an_accept_and_a_second_approve_at_once_do_not_deadlock(desk: Desk) -> None:
    """The buyer's claim of her tap names the case (a key-share lock on it through the
    transcript's foreign key); the second decider's tap locked the offer and then wanted the
    case, while hers waited for the offer: a deadlock, and her acceptance was lost."""
    if desk.db.is_sqlite:
        pytest.skip("SQLite has no row locks: its transactions take turns")
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    number = await describe_defect(desk, price="5000")
    approve = dmitri.button("Approve")
    await dora.click("Approve")
    accept = anna.button("Accept")
    case = await desk.latest_case()
    [offer] = await desk.offers(case.id)
    engine = desk.sandbox.app.engine
    statement = "SELECT 1 FROM offers WHERE id = :id FOR UPDATE"
    async with holding(desk, statement, id=offer.id) as holder:
        late, accepted = await in_turn(
            desk,
            holder,
            engine.process(pressed(dmitri, approve, "tap:dmitri")),
            engine.process(pressed(anna, accept, "tap:anna")),
        )
    await desk.deliver()
    assert not accepted.failed and not late.failed
    assert late.callback_answer == "Already decided by Dora."
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.ACCEPTED
    assert "Agreed: a refund of RUB1,500.00" in anna.last.plain
    assert await desk.refunded(number) == Money.of("1500", "RUB")
    async with desk.db.session() as session:
        claims = await session.scalar(
            select(func.count()).where(TranscriptEntry.update_key.in_(["tap:anna", "tap:dmitri"]))
        )
    assert claims == 2
