"""Every update takes its row locks in one order (docs/locking.md), so two updates at once wait
for each other but never deadlock; one that still meets a deadlock (a party outside that order)
is run again from the start, on a new transaction, and recorded once.

Each test lines the updates up so that the interleaving that deadlocked is the one that runs,
every time: a connection of the test's own holds a row lock until they wait behind it, or one
update is held between two of its locks until the other waits for it. Lock waits are read from
PostgreSQL itself (`pg_blocking_pids`). SQLite has no row locks (its transactions take turns),
so these run on PostgreSQL; tests/test_races.py runs races on both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.domain.enums import CaseState, OfferStatus, PromiseKind
from bot.domain.money import Money
from bot.engine.events import Incoming
from bot.sandbox import Participant
from bot.services import offers
from bot.storage.models import Offer, TranscriptEntry
from bot.storage.transaction import Transaction
from handlers.payloads import PickOrder, Withdraw
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

_BLOCKED = text(
    "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
    "WHERE cardinality(pg_blocking_pids(pid)) > 0"
)
_PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def postgres(desk: Desk) -> Desk:
    if desk.db.is_sqlite:
        pytest.skip("SQLite has no row locks: its transactions take turns")
    return desk


@asynccontextmanager
async def connection_of_own(desk: Desk) -> AsyncIterator[AsyncConnection]:
    """A connection outside the bot's pool, to the test's schema."""
    schema = desk.db.schema or "public"
    engine = create_async_engine(
        desk.db.url, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def waiting_for(connection: AsyncConnection, pid: int, count: int) -> None:
    """Until `count` backends wait, directly or behind another waiter, for backend `pid`."""
    for _ in range(1000):
        # The statistics views keep one snapshot a transaction unless told to let go.
        await connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        edges = (await connection.execute(_BLOCKED)).all()
        behind = {pid}
        while more := {p for p, blockers in edges if behind & set(blockers)} - behind:
            behind |= more
        if len(behind) - 1 >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} updates never waited for backend {pid}")


def pressed(person: Participant, payload: str, key: str) -> Incoming:
    return Incoming(
        key=key, author=person.author, chat_id=person.chat_id, payload=payload, callback_id=key
    )


def no_deadlock_met(caplog: pytest.LogCaptureFixture) -> bool:
    """The engine logs each try it runs again; the lock order should leave it none to run."""
    return not [r for r in caplog.records if "met a deadlock" in r.getMessage()]


async def claims(desk: Desk, *keys: str) -> int:
    async with desk.db.session() as session:
        count = await session.scalar(
            select(func.count()).where(TranscriptEntry.update_key.in_(keys))
        )
    return int(count or 0)


async def test_an_accept_and_a_second_approve_at_once_do_not_deadlock(
    postgres: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The buyer's claim of her tap names the case (a key-share lock on it, through the
    transcript's foreign key). The second decider's tap locked the offer and then wanted the
    case FOR UPDATE, which waits for a key-share lock, while hers waited for the offer: a
    deadlock, and her acceptance was recorded as failed."""
    desk = postgres
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    number = await describe_defect(desk, price="5000")
    approve = dmitri.button("Approve")
    await dora.click("Approve")
    accept = anna.button("Accept")
    case = await desk.latest_case()
    [offer] = await desk.offers(case.id)
    engine = desk.sandbox.app.engine
    caplog.set_level(logging.WARNING)
    async with connection_of_own(desk) as held:
        # Held until both taps wait: the decider's first, behind this lock, then the buyer's.
        await held.execute(text("SELECT 1 FROM offers WHERE id = :id FOR UPDATE"), {"id": offer.id})
        pid = await held.scalar(_PID)
        late = asyncio.ensure_future(engine.process(pressed(dmitri, approve, "tap:dmitri")))
        await waiting_for(held, pid, 1)
        accepted = asyncio.ensure_future(engine.process(pressed(anna, accept, "tap:anna")))
        await waiting_for(held, pid, 2)
        await held.commit()
        outcomes = await late, await accepted
    await desk.deliver()
    assert [o.failed for o in outcomes] == [False, False]
    assert outcomes[0].callback_answer == "Already decided by Dora."
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.ACCEPTED
    assert "Agreed: a refund of RUB1,500.00" in anna.last.plain
    assert await desk.refunded(number) == Money.of("1500", "RUB")
    assert await claims(desk, "tap:anna", "tap:dmitri") == 2
    assert no_deadlock_met(caplog)


async def test_a_withdrawal_and_an_approval_at_once_lock_the_case_first(
    postgres: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A withdrawal locks the case and then changes its offer; an approval used to lock the
    offer and then the case. The decider is held just after locking the offer until the
    buyer's withdrawal waits for him: on the old order, each then waited for the other."""
    desk = postgres
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="5000")
    approve = dora.button("Approve")
    case = await desk.latest_case()
    engine = desk.sandbox.app.engine
    locked, go = asyncio.Event(), asyncio.Event()
    decider: dict[str, Any] = {}
    real_lock = offers.lock

    async def lock_then_wait(tx: Transaction, offer_id: int) -> Offer | None:
        offer = await real_lock(tx, offer_id)
        if asyncio.current_task() is decider.get("task"):
            decider["pid"] = await tx.session.scalar(_PID)
            locked.set()
            await go.wait()
        return offer

    monkeypatch.setattr(offers, "lock", lock_then_wait)
    caplog.set_level(logging.WARNING)
    approval = asyncio.ensure_future(engine.process(pressed(dora, approve, "tap:dora")))
    decider["task"] = approval
    await locked.wait()
    withdraw = Withdraw(case_id=case.id).pack()
    withdrawal = asyncio.ensure_future(engine.process(pressed(anna, withdraw, "tap:anna")))
    async with connection_of_own(desk) as monitor:
        await waiting_for(monitor, decider["pid"], 1)
    go.set()
    outcomes = await approval, await withdrawal
    assert [o.failed for o in outcomes] == [False, False]
    # The decider came first: his approval stands until the buyer's withdrawal, after it.
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.WITHDRAWN and offer.decided_by_name == "Anna"
    assert (await desk.latest_case()).state is CaseState.CLOSED
    assert await claims(desk, "tap:anna", "tap:dora") == 2
    assert no_deadlock_met(caplog)


async def test_an_update_that_meets_a_deadlock_anyway_is_applied_once_on_a_new_try(
    postgres: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """Something outside the bot's lock order (here an operator's session: the case, then the
    buyer's chat) deadlocks with her tap, and PostgreSQL rolls her transaction back. The engine
    runs the whole update again on a new transaction, and it counts once."""
    desk = postgres
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")  # 600 offered at once
    accept = anna.button("Accept")
    case = await desk.latest_case()
    engine = desk.sandbox.app.engine
    caplog.set_level(logging.WARNING)
    async with connection_of_own(desk) as operator:
        await operator.execute(
            text("SELECT 1 FROM cases WHERE id = :id FOR UPDATE"), {"id": case.id}
        )
        pid = await operator.scalar(_PID)
        # Her claim names the case: its key-share lock waits for the operator's FOR UPDATE.
        tap = asyncio.ensure_future(engine.process(pressed(anna, accept, "tap:anna")))
        await waiting_for(operator, pid, 1)
        # The operator now wants her chat's row, which her update holds: a deadlock, and hers
        # is the transaction PostgreSQL ends (it has waited longest).
        await operator.execute(
            text("SELECT 1 FROM conversations WHERE chat_id = :chat FOR UPDATE"),
            {"chat": anna.chat_id},
        )
        await operator.commit()
        outcome = await tap
    await desk.deliver()
    assert not outcome.failed and not outcome.duplicate
    assert any("met a deadlock (try 1 of" in r.getMessage() for r in caplog.records)
    assert "Agreed: a refund of RUB600.00" in anna.last.plain
    assert sum("Agreed" in m.plain for m in anna.inbox) == 1
    assert [r.amount for r in await desk.refunds(number)] == [Money.of("600", "RUB")]
    assert await claims(desk, "tap:anna") == 1


async def test_asking_for_a_person_by_order_locks_the_case_before_its_promises(
    postgres: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """Asking for a person about an order escalated the order's open case as it had read it,
    without a lock, and locked it only as the commit wrote it: after its promises, out of
    order. A decider's approval committed in between was escalated from "waiting for the
    seller", each update writing the case from what it had read. Held until both wait, the
    approval first: the escalation must start from what the approval left."""
    desk = postgres
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await describe_defect(desk, price="5000")
    approve = dora.button("Approve")
    case = await desk.latest_case()
    order = await desk.get_order(number)
    engine = desk.sandbox.app.engine
    caplog.set_level(logging.WARNING)
    async with connection_of_own(desk) as held:
        await held.execute(text("SELECT 1 FROM cases WHERE id = :id FOR UPDATE"), {"id": case.id})
        pid = await held.scalar(_PID)
        approval = asyncio.ensure_future(engine.process(pressed(dora, approve, "tap:dora")))
        await waiting_for(held, pid, 1)
        by_order = PickOrder(flow="person", order_id=order.id).pack()
        escalation = asyncio.ensure_future(engine.process(pressed(anna, by_order, "tap:anna")))
        await waiting_for(held, pid, 2)
        await held.commit()
        outcomes = await approval, await escalation
    await desk.deliver()
    assert [o.failed for o in outcomes] == [False, False]
    assert no_deadlock_met(caplog)
    # The escalation saw the approval, which came first: the case went to support from there.
    case = await desk.latest_case()
    assert (case.state, case.escalated_from) == (CaseState.ESCALATED, CaseState.AWAITING_BUYER)
    assert [c.kind for c in await desk.promises(case.id) if c.state.value == "open"] == [
        PromiseKind.SUPPORT_REPLY
    ]
