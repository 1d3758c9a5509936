"""A buyer's history with a seller: the refunds and returns they had in a period, which the
return-history rule weighs and support's summary shows (docs/conversations.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain.enums import CaseKind, CaseState, OrderStatus, RefundStatus
from bot.domain.money import Money
from bot.storage.models import Case, Order, Refund
from bot.storage.transaction import Transaction

# A return counts once the buyer was told to send it back; a draft or a withdrawn one does not.
RETURNED = (
    CaseState.RETURN_SHIPPING,
    CaseState.RETURN_TRACKING,
    CaseState.RETURN_IN_TRANSIT,
    CaseState.EXECUTING,
    CaseState.RESOLVED,
)


@dataclass(frozen=True, slots=True)
class BuyerHistory:
    """Earlier cases of the buyer with the seller that moved money or goods back."""

    period: timedelta
    cases: int  # with a refund (failed ones aside) or an accepted return
    refunded: Money  # the refunds in the period, in the currency asked about


async def of_buyer(
    tx: Transaction, case: Case, *, period: timedelta, now: datetime
) -> BuyerHistory:
    """The history before `case`: questions, cancellations before shipping, drafts and
    withdrawn requests are no history of returns, so only refunds and returns count."""
    since = now - period
    currency = case.order.currency
    refunds = (
        await tx.session.execute(
            select(Refund.case_id, Refund.id, Refund.amount_minor, Refund.currency)
            .join(Order, Refund.order_id == Order.id)
            .outerjoin(Case, Refund.case_id == Case.id)
            .where(
                Order.buyer_id == case.buyer_id,
                Order.seller_id == case.seller_id,
                Refund.created_at >= since,
                Refund.status != RefundStatus.FAILED,
                # An order cancelled and paid back is a cancellation, not a return.
                ~((Case.kind == CaseKind.CANCEL) & (Order.status == OrderStatus.CANCELLED)),
            )
        )
    ).all()
    returns = await tx.session.scalars(
        select(Case.id).where(
            Case.buyer_id == case.buyer_id,
            Case.seller_id == case.seller_id,
            Case.kind == CaseKind.RETURN,
            Case.state.in_(RETURNED),
            Case.created_at >= since,
        )
    )
    # A refund without a case (one imported, or made by hand) is a history entry of its own.
    counted = {("case", r.case_id) if r.case_id else ("refund", r.id) for r in refunds}
    counted |= {("case", case_id) for case_id in returns}
    counted.discard(("case", case.id))
    refunded = sum(
        (r.amount_minor for r in refunds if r.currency == currency and r.case_id != case.id), 0
    )
    return BuyerHistory(period, len(counted), Money.from_minor(refunded, currency))
