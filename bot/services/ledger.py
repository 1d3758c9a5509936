"""The refund ledger: the one place money is promised back (docs/design.md#exact-money).

Every refund is written here under a lock on its order, checked against what is left of the
payment, and counted on the order row, whose CHECK constraint refuses an over-refund even if
this code were wrong. An idempotency key makes a replayed approval find the first refund.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.enums import Reason, RefundStatus
from bot.domain.money import Money
from bot.storage.models import Case, Order, Refund
from bot.storage.transaction import Transaction

ORDERS = cast(Table, Order.__table__)
REFUNDS = cast(Table, Refund.__table__)
# FOR NO KEY UPDATE, the order's lock comes after its case's (docs/locking.md).
_LOCK = (
    select(Order.refunded_minor).where(Order.id == bindparam("id")).with_for_update(key_share=True)
)
_REFUNDED = ORDERS.c.refunded_minor + bindparam("delta")
_COUNT = update(ORDERS).where(ORDERS.c.id == bindparam("order")).values(refunded_minor=_REFUNDED)
# A new refund, counted on its order in one statement that also takes the order's lock: unless
# its key was used before or it would take the total above what was paid. Then no row comes back,
# and approve_refund finds out which (a rare path, so two more reads there cost nothing).
_ADD = _COUNT.where(
    ORDERS.c.paid_minor + ORDERS.c.shipping_minor >= _REFUNDED,
    ~exists().where(REFUNDS.c.idempotency_key == bindparam("key")),
).returning(ORDERS.c.refunded_minor)
_BY_KEY = select(Refund).where(Refund.idempotency_key == bindparam("key"))


class OverRefundError(Exception):
    def __init__(self, requested: Money, refundable: Money) -> None:
        super().__init__(f"{requested} asked, {refundable} refundable")
        self.requested = requested
        self.refundable = refundable


async def lock_order(tx: Transaction, order_id: int) -> Order:
    """The order, its row locked and its refunded total read after the lock: a refund on
    another case of the same order may have been committed since the order was loaded."""
    order = await tx.session.get(Order, order_id)  # usually in hand already, with its case
    if order is None:
        raise LookupError(f"order {order_id}")
    refunded = await tx.session.scalar(_LOCK, {"id": order_id})
    # Set as loaded, not as a change: it is what the row holds (pending changes were flushed
    # before the read).
    set_committed_value(order, "refunded_minor", refunded)
    return order


async def _count(tx: Transaction, order: Order, delta: int) -> None:
    """Add `delta` to the order's refunded total, in the row (whose CHECK constraint refuses
    more than was paid) and in the entity, as loaded: its row is locked (lock_order)."""
    connection = await tx.session.connection()  # no pending change bears on it: no flush first
    await connection.execute(_COUNT, {"order": order.id, "delta": delta})
    set_committed_value(order, "refunded_minor", order.refunded_minor + delta)


async def approve_refund(
    tx: Transaction,
    *,
    order_id: int,
    amount: Money,
    reason: Reason,
    key: str,
    now: datetime,
    case_id: int | None = None,
    offer_id: int | None = None,
    note: str | None = None,
) -> Money:
    """Record an approved refund, or find the one already recorded under `key`: either way,
    the amount the ledger holds for `key`."""
    order = await tx.session.get(Order, order_id)  # usually in hand already, with its case
    if order is None:
        raise LookupError(f"order {order_id}")
    if amount.currency != order.currency:
        raise ValueError(f"refund in {amount.currency} for an order paid in {order.currency}")
    if amount.minor <= 0:
        raise ValueError("a refund must be positive")
    await tx.write_now(REFUNDS)  # a key this update used is then seen
    connection = await tx.session.connection()
    counted = {"order": order_id, "delta": amount.minor, "key": key}
    refunded = (await connection.execute(_ADD, counted)).scalar()
    if refunded is None:
        existing = await tx.session.scalar(_BY_KEY, {"key": key})
        if existing is not None:
            return existing.amount
        await lock_order(tx, order_id)  # for the refundable amount the buyer is told
        raise OverRefundError(amount, order.refundable)
    set_committed_value(order, "refunded_minor", refunded)  # what the row holds, as loaded
    # Held to the commit: nothing in the update reads it back but refunds_of_case, which writes
    # what is held first.
    tx.insert_later(
        REFUNDS,
        {
            "order_id": order_id,
            "case_id": case_id,
            "offer_id": offer_id,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "reason": reason,
            "status": RefundStatus.APPROVED,
            "idempotency_key": key,
            "note": note,
            "created_at": now,
            "approved_at": now,
        },
    )
    return amount


def mark_executed(refund: Refund, now: datetime) -> bool:
    """The money went out. False when it was already marked (a second tap)."""
    if refund.status is not RefundStatus.APPROVED:
        return False
    refund.status = RefundStatus.EXECUTED
    refund.executed_at = now
    return True


FAILABLE = (RefundStatus.APPROVED, RefundStatus.EXECUTED)


async def mark_failed(tx: Transaction, refund: Refund, now: datetime, why: str) -> bool:
    """The payment did not go through, before it was sent or after the seller said it was:
    the amount becomes refundable again. False when it was already marked failed."""
    if refund.status not in FAILABLE:
        return False
    order = await lock_order(tx, refund.order_id)
    await _count(tx, order, -refund.amount_minor)
    refund.status = RefundStatus.FAILED
    refund.failed_at = now
    refund.note = why
    return True


def approved_total(refunds: list[Refund]) -> Money | None:
    """What the approved refunds among `refunds` (not yet sent, nor failed) add up to."""
    approved = [r.amount for r in refunds if r.status is RefundStatus.APPROVED]
    return sum(approved[1:], approved[0]) if approved else None


async def refunds_of_case(tx: Transaction, case_id: int) -> list[Refund]:
    # A refund this update approved is held for the commit.
    await tx.write_now(REFUNDS)
    rows = await tx.session.scalars(
        select(Refund).where(Refund.case_id == case_id).order_by(Refund.id)
    )
    return list(rows)


async def sent_refunds(tx: Transaction, seller_ids: Collection[str], limit: int) -> list[Refund]:
    """The refunds of these sellers' cases marked sent and not failed since, newest first: the
    ones a seller may say did not go through."""
    rows = await tx.session.scalars(
        select(Refund)
        .join(Case, Case.id == Refund.case_id)
        .where(Case.seller_id.in_(list(seller_ids)), Refund.status == RefundStatus.EXECUTED)
        .order_by(Refund.executed_at.desc(), Refund.id.desc())
        .limit(limit)
    )
    return list(rows)
