"""Claiming an order imported without a Telegram id (docs/claiming.md): the first account to
open its signed link, or to type its number and pass the seller's check, becomes its buyer;
support can bind it to another. Wrong answers are counted per account and order, and too many
hold that account off that order for the policy's cool-down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from bot.domain.claims import CheckKind
from bot.engine.identity import BuyerProfile, update_buyer
from bot.storage.models import Buyer, Case, ClaimAttempt, Order
from bot.storage.transaction import Transaction
from bot.storage.upsert import insert_ignore


async def order(tx: Transaction, order_id: int) -> Order | None:
    return (
        (
            await tx.session.scalars(
                select(Order).where(Order.id == order_id).options(joinedload(Order.items))
            )
        )
        .unique()
        .first()
    )


def stored_check(order: Order, kind: CheckKind) -> str | None:
    """The order's hashed answer to the policy's check; None: the import gave none."""
    return order.phone_hash if kind is CheckKind.PHONE_LAST4 else order.postal_hash


async def bind(tx: Transaction, order: Order, buyer: BuyerProfile, now: datetime) -> bool:
    """Make `buyer` the order's buyer if it has none yet; False when another account was first.

    One conditional UPDATE, so of two accounts claiming at once exactly one wins on SQLite and
    PostgreSQL alike, without a lock held across the conversation."""
    result = await tx.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.buyer_id.is_(None))
        .values(buyer_id=buyer.telegram_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    order.buyer_id, order.claimed_at = buyer.telegram_id, now
    await _adopt_details(tx, order, buyer)
    return True


async def _adopt_details(tx: Transaction, order: Order, buyer: BuyerProfile) -> None:
    """What the import said of the buyer, where the account says nothing better: the zone
    promises are told in, and a first guess of the language (docs/importing.md)."""
    changes: dict[str, object] = {}
    if order.buyer_timezone and buyer.timezone == "UTC" and order.buyer_timezone != "UTC":
        changes["timezone"] = buyer.timezone = order.buyer_timezone
    if order.buyer_language and buyer.language_code is None:
        changes["language_code"] = buyer.language_code = order.buyer_language
    if changes:
        await update_buyer(tx.session, buyer.telegram_id, changes)


async def rebind(tx: Transaction, order: Order, telegram_id: int, now: datetime) -> None:
    """Support gives the order to another account, with its open cases (docs/claiming.md)."""
    new_buyer = {"telegram_id": telegram_id, "name": "", "timezone": "UTC"}
    await insert_ignore(tx.session, Buyer, new_buyer)
    await tx.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(buyer_id=telegram_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    await tx.session.execute(
        update(Case)
        .where(Case.order_id == order.id, Case.closed_at.is_(None))
        .values(buyer_id=telegram_id)
        .execution_options(synchronize_session=False)
    )
    await tx.session.execute(
        update(ClaimAttempt)
        .where(ClaimAttempt.order_id == order.id)
        .values(failures=0, blocked_until=None, updated_at=now)
    )


# -- wrong answers -----------------------------------------------------------------------------


async def blocked_until(
    tx: Transaction, order_id: int, telegram_id: int, now: datetime
) -> datetime | None:
    """Until when this account may not try to claim this order; None: it may now."""
    attempt = await tx.session.get(ClaimAttempt, (order_id, telegram_id))
    if attempt is None or attempt.blocked_until is None or attempt.blocked_until <= now:
        return None
    return attempt.blocked_until


async def wrong_answer(
    tx: Transaction,
    order_id: int,
    telegram_id: int,
    now: datetime,
    *,
    tries: int,
    cool_down: timedelta,
) -> tuple[int, datetime | None]:
    """Count a wrong answer: (tries left, and the end of the cool-down once none are left)."""
    attempt = await tx.session.get(ClaimAttempt, (order_id, telegram_id), with_for_update=True)
    if attempt is None:
        attempt = ClaimAttempt(order_id=order_id, telegram_id=telegram_id, failures=0)
        tx.session.add(attempt)
    if attempt.blocked_until is not None and attempt.blocked_until <= now:
        attempt.failures, attempt.blocked_until = 0, None  # a cool-down served starts afresh
    attempt.failures += 1
    attempt.updated_at = now
    if attempt.failures >= tries:
        attempt.blocked_until = now + cool_down
        await tx.session.flush()
        return 0, attempt.blocked_until
    await tx.session.flush()
    return tries - attempt.failures, None


async def forget_answers(tx: Transaction, order_id: int, telegram_id: int) -> None:
    attempt = await tx.session.get(ClaimAttempt, (order_id, telegram_id))
    if attempt is not None:
        await tx.session.delete(attempt)


# -- links -------------------------------------------------------------------------------------


async def orders_for_links(
    tx: Transaction, numbers: Sequence[str], *, all_new: bool
) -> tuple[list[Order], list[str]]:
    """The orders to make cards for, and the numbers that name no order."""
    query = select(Order).options(joinedload(Order.items)).order_by(Order.id)
    if all_new:
        found = list((await tx.session.scalars(query.where(Order.link_made_at.is_(None)))).unique())
        return found, []
    found = list((await tx.session.scalars(query.where(Order.number.in_(numbers)))).unique())
    missing = [n for n in numbers if all(o.number != n for o in found)]
    return found, missing


async def mark_linked(tx: Transaction, orders: Sequence[Order], now: datetime) -> None:
    for linked in orders:
        linked.link_made_at = now
    await tx.session.flush()
