"""Orders as a buyer may see them: only their own."""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from bot.storage.models import Order
from bot.storage.transaction import Transaction

RECENT_ORDERS = 8
_RECENT = (
    select(Order)
    .where(Order.buyer_id == bindparam("buyer"))
    .order_by(Order.placed_at.desc(), Order.id.desc())
    .limit(RECENT_ORDERS)
    .options(joinedload(Order.items))
)

# One order with its items and its buyer joined in: one statement, where the items' own loader
# makes two, and a case opened on it finds its buyer loaded.
_ONE = (
    select(Order)
    .where(Order.id == bindparam("order"))
    .options(joinedload(Order.items), joinedload(Order.buyer))
)


async def buyer_orders(tx: Transaction, buyer_id: int) -> list[Order]:
    return list((await tx.session.scalars(_RECENT, {"buyer": buyer_id})).unique())


async def buyer_order(tx: Transaction, buyer_id: int, order_id: int) -> Order | None:
    order = (await tx.session.scalars(_ONE, {"order": order_id})).unique().first()
    return order if order is not None and order.buyer_id == buyer_id else None


async def orders_by_number(tx: Transaction, number: str) -> list[Order]:
    """Every order with this number (or, for a marketplace's shipment, its order's number),
    whoever's; callers decide what the sender may see."""
    cleaned = number.strip().lstrip("#№").strip()
    if not cleaned or len(cleaned) > 64:
        return []
    # A marketplace's shipment also answers to the order number its buyer sees (Ozon's
    # order_number beside the posting number: docs/ozon.md).
    wanted = cleaned.lower()
    rows = await tx.session.scalars(
        select(Order)
        .where(or_(func.lower(Order.number) == wanted, func.lower(Order.order_number) == wanted))
        .limit(10)
    )
    return list(rows.unique())
