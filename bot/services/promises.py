"""Promises to buyers as rows: who owes what, by when.

Two sorts (docs/offers-and-promises.md). A promise of the conversation's next step (a first
reply, a decision, an inspection, support's reply) is replaced by the next one of its kind and
closed when the conversation moves elsewhere (an escalation, a hand-back, a resolution). A
promise of what was agreed (a refund to send, an item or coupon to ship) is owed: it ends only
when its owner does it, whatever the conversation does meanwhile."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, select

from bot.domain.calendar import Calendar, Target
from bot.domain.enums import PromiseKind, PromiseState, Role
from bot.storage.models import Case, Promise
from bot.storage.plans import known_limit
from bot.storage.transaction import Transaction

PROMISES = cast(Table, Promise.__table__)
_OPEN = (
    select(Promise)
    .where(Promise.case_id == bindparam("case"), Promise.state == PromiseState.OPEN)
    .order_by(Promise.id)
    .execution_options(autoflush=False)
)
_OPEN_OF_KINDS = _OPEN.where(Promise.kind.in_(bindparam("kinds", expanding=True)))
# What was agreed: each is its own debt, kept only by doing it (`keep`).
OWED = frozenset({PromiseKind.REFUND_EXECUTION, PromiseKind.FULFILMENT})
# The conversation's next step: what `end_conversation` closes.
CONVERSATION = tuple(kind for kind in PromiseKind if kind not in OWED)
# Owed after the case ended: what was agreed, and the seller's answer to a low rating, which is
# only ever asked of a resolved case (docs/aftersales.md).
AFTER_THE_END = OWED | {PromiseKind.FOLLOW_UP}
SWEEP_BATCH = 500  # promises of each action one sweep reads at a time


async def promise(
    tx: Transaction,
    case: Case,
    kind: PromiseKind,
    *,
    target: Target,
    calendar: Calendar,
    warn_share: float,
    now: datetime,
    owner_role: Role = Role.SELLER,
    replaces: Promise | None = None,
) -> datetime:
    """Open a promise due `target` from now on the owner's calendar, computed once and stored;
    an open promise of the same kind on the case is superseded by it, unless what it owes is a
    debt of its own (OWED: a second refund does not excuse the first). Returns when it falls
    due."""
    if kind not in OWED:
        await close(tx, case.id, now, kinds=[kind], state=PromiseState.CLOSED)
    due = calendar.add(now, target)
    if target.business:
        warn = calendar.share(now, due, warn_share)
    else:
        warn = now + (due - now) * warn_share
    # Held for the commit, as a row rather than an entity to flush: open_promises writes
    # what is held before it reads.
    tx.insert_later(
        PROMISES,
        {
            "case_id": case.id,
            "kind": kind,
            "owner_role": owner_role,
            "owner_ref": case.seller_id if owner_role is Role.SELLER else "support",
            "state": PromiseState.OPEN,
            "created_at": now,
            "due_at": due,
            "warn_at": warn,
            "replaces_id": replaces.id if replaces else None,
        },
    )
    return due


async def open_promises(
    tx: Transaction, case_id: int, kinds: Iterable[PromiseKind] | None = None
) -> list[Promise]:
    # Without flushing the session first: a promise is a row once what is held is written
    # (`promise`), and promises only ever leave the open state, so the rows read here are all
    # there is, and one this transaction closed but has not flushed yet is told by its state in
    # memory.
    await tx.write_now(PROMISES)
    if kinds is None:
        rows = await tx.session.scalars(_OPEN, {"case": case_id})
    else:
        rows = await tx.session.scalars(_OPEN_OF_KINDS, {"case": case_id, "kinds": list(kinds)})
    return [promise for promise in rows if promise.state is PromiseState.OPEN]


async def close(
    tx: Transaction,
    case_id: int,
    now: datetime,
    *,
    kinds: Iterable[PromiseKind],
    state: PromiseState = PromiseState.KEPT,
) -> list[Promise]:
    """Mark open promises of `kinds` kept (the owner did what was owed) or closed (no longer
    owed)."""
    closed = await open_promises(tx, case_id, kinds)
    for promise in closed:
        promise.state = state
        promise.closed_at = now
    return closed


async def end_conversation(tx: Transaction, case_id: int, now: datetime) -> None:
    """The case's conversation moved elsewhere (escalated, handed back, resolved, withdrawn):
    the promises of its next step are no longer owed. What was agreed stays owed."""
    await close(tx, case_id, now, kinds=CONVERSATION, state=PromiseState.CLOSED)


async def owed(tx: Transaction, case_id: int) -> list[Promise]:
    """The case's open promises of what was agreed, oldest first."""
    return await open_promises(tx, case_id, OWED)


async def keep(tx: Transaction, case_id: int, now: datetime, *kinds: PromiseKind) -> list[Promise]:
    """The owner did what was owed. Done after the due time, the promise still counts as
    breached (the numbers stay honest), though nobody is escalated for it any more."""
    done = await open_promises(tx, case_id, kinds)
    for promise in done:
        promise.state = PromiseState.KEPT if now <= promise.due_at else PromiseState.BREACHED
        promise.closed_at = now
    return done


async def latest(tx: Transaction, case_id: int, kind: PromiseKind) -> Promise | None:
    """The case's most recent promise of `kind`, in whatever state."""
    await tx.write_now(PROMISES)
    return await tx.session.scalar(
        select(Promise)
        .where(Promise.case_id == case_id, Promise.kind == kind)
        .order_by(Promise.id.desc())
        .limit(1)
    )


async def due_for_sweep(
    tx: Transaction, now: datetime, limit: int = SWEEP_BATCH
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """What the sweeper acts on (bot/runtime/sweeper.py): open promises past their due time,
    then those at their warning point, each as (promise, the buyer's chat), oldest first."""
    breaches = (await tx.session.execute(falling_due(now, limit))).all()
    reminders = (await tx.session.execute(warning_due(now, limit))).all()
    # Promises are made to a buyer in Telegram; a case without one (docs/ozon.md) makes none.
    return (
        [(c, chat) for c, chat in breaches if chat is not None],
        [(c, chat) for c, chat in reminders if chat is not None],
    )


def falling_due(now: datetime, limit: int = SWEEP_BATCH) -> Select[int, int | None]:
    """Open promises past their due time, oldest first: read from the (state, due_at) index."""
    return (
        select(Promise.id, Case.buyer_id)
        .join(Case, Case.id == Promise.case_id)
        .where(Promise.state == PromiseState.OPEN, Promise.due_at <= now)
        .order_by(Promise.due_at)
        .limit(known_limit(limit))
    )


def warning_due(now: datetime, limit: int = SWEEP_BATCH) -> Select[int, int | None]:
    """Open promises at their warning point, not yet reminded: the (state, warn_at) index."""
    return (
        select(Promise.id, Case.buyer_id)
        .join(Case, Case.id == Promise.case_id)
        .where(
            Promise.state == PromiseState.OPEN,
            Promise.warn_at <= now,
            Promise.reminded_at.is_(None),
            Promise.due_at > now,
        )
        .order_by(Promise.warn_at)
        .limit(known_limit(limit))
    )


async def case_id_of(tx: Transaction, promise_id: int) -> int | None:
    """The id of the case a promise is on; None when there is no such promise."""
    return await tx.session.scalar(select(Promise.case_id).where(Promise.id == promise_id))


async def lock_promise(tx: Transaction, promise_id: int) -> Promise | None:
    """The promise, its row locked until the transaction ends and read afresh. Its case must be
    locked first (docs/locking.md). Waits for, rather than skips, a sweeper holding it: the
    other action on the same promise (a reminder and a breach) must see what the first did."""
    return await tx.session.scalar(
        select(Promise)
        .where(Promise.id == promise_id)
        .with_for_update(of=Promise, key_share=True)
        .execution_options(populate_existing=True)
    )


def set_aside(promise: Promise, now: datetime) -> None:
    """A promise the sweeper found no longer owed: its case ended another way."""
    promise.state, promise.closed_at = PromiseState.CLOSED, now


def reminded(promise: Promise, now: datetime) -> bool:
    """Mark a promise reminded at `now`; False when it had been already (once is enough)."""
    if promise.reminded_at is not None:
        return False
    promise.reminded_at = now
    return True


def breached(promise: Promise, now: datetime) -> None:
    """A promise missed: it broke at its due time, whenever the sweeper noticed (`now`)."""
    promise.state, promise.closed_at = PromiseState.BREACHED, promise.due_at
    promise.reminded_at = promise.reminded_at or now
