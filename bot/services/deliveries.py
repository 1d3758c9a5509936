"""A shipped reshipment or replacement waits for the buyer to say it arrived; the seller's
policy (`[aftersales] delivered_after`) says how long before it counts as delivered anyway
(docs/offers-and-promises.md#reshipments)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain.enums import CaseState
from bot.storage.models import Case
from bot.storage.plans import known_limit
from bot.storage.transaction import Transaction

SWEEP_BATCH = 500


def wait(case: Case, now: datetime, after: timedelta) -> None:
    """The parcel went out: it counts as delivered `after` from now unless the buyer says so."""
    case.delivery_due_at = now + after


def expected_at(case: Case, delivered_after: timedelta, expected: timedelta) -> datetime | None:
    """When the buyer may say it has not arrived: `expected` after "Shipped" (which was
    `delivered_after` before the wait's end). None when the case does not wait for one."""
    if case.delivery_due_at is None:
        return None
    return case.delivery_due_at - delivered_after + expected


def arrived(case: Case) -> bool:
    """Mark the wait over; False when it was over already (the buyer said so, or the sweeper)."""
    if case.state is not CaseState.AWAITING_DELIVERY:
        return False
    case.delivery_due_at = None
    return True


async def due(tx: Transaction, now: datetime, limit: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    """What the sweeper asks: cases still waiting for a delivery whose time has passed, as
    (case, the buyer's chat), oldest first."""
    query = (
        select(Case.id, Case.buyer_id)
        .where(Case.state == CaseState.AWAITING_DELIVERY, Case.delivery_due_at <= now)
        .order_by(Case.delivery_due_at)
        .limit(known_limit(limit))
    )
    return [(c, chat) for c, chat in (await tx.session.execute(query)).all() if chat is not None]
