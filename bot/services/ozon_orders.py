"""Ozon postings as orders (docs/ozon.md): each posting becomes an order through the import's
own upsert (bot/services/importer.py), and where the seller's pull stands is a row
(`marketplace_syncs`), written with every page, so a pull survives a restart.

A posting that cannot be taken in is set aside in `marketplace_rejects` with why, and the others
on its page still land; it leaves that table when a later pull takes it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from bot.domain.claims import ClaimKeys
from bot.domain.enums import OrderStatus
from bot.marketplaces.ozon import Posting, PostingPage
from bot.marketplaces.ozon.unconfirmed import Fact, met
from bot.services.importer import OrderRefusedError, save_order, validate_order
from bot.storage.models import MarketplaceReject, MarketplaceSync, Order
from bot.storage.transaction import Transaction

MARKETPLACE = "ozon"
# A posting whose status changes just as one pull ends is looked for again by the next.
OVERLAP = timedelta(minutes=5)
# Ozon's posting statuses (docs/ozon.md) as ReturnDesk's order statuses.
STATUSES = {
    "awaiting_registration": OrderStatus.PLACED,
    "acceptance_in_progress": OrderStatus.PLACED,
    "awaiting_approve": OrderStatus.PLACED,
    "awaiting_verification": OrderStatus.PLACED,
    "awaiting_packaging": OrderStatus.CONFIRMED,
    "awaiting_deliver": OrderStatus.CONFIRMED,
    "driver_pickup": OrderStatus.SHIPPED,
    "sent_by_seller": OrderStatus.SHIPPED,
    "delivering": OrderStatus.IN_TRANSIT,
    # A dispute about the delivery: the parcel is still between the seller and the buyer.
    "arbitration": OrderStatus.IN_TRANSIT,
    "client_arbitration": OrderStatus.IN_TRANSIT,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "not_accepted": OrderStatus.CANCELLED,
    "cancelled_from_split_pending": OrderStatus.CANCELLED,
}
# A posting's fields about the buyer, left out of what is kept of a posting set aside.
PERSONAL = frozenset({"customer", "addressee"})
_SHIPPED = {OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED}


@dataclass(frozen=True)
class Window:
    """One pull: the postings placed between `since` and `to` (whose status changed since
    `changed_since`, after the first pull), from the page `cursor` names."""

    since: datetime
    to: datetime
    changed_since: datetime | None
    cursor: str
    resumed: bool


@dataclass
class PageOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    set_aside: list[tuple[str, str]] = field(default_factory=list)


async def begin(
    tx: Transaction,
    seller_id: str,
    now: datetime,
    *,
    first_sync_days: int,
    lookback_days: int,
) -> Window:
    """The pull to make: the one a crash cut short, from its next page, or a new one up to now."""
    state = await _state(tx, seller_id, now)
    if state.cursor and state.window_since and state.window_to:
        return Window(state.window_since, state.window_to, state.changed_since, state.cursor, True)
    if state.synced_until is None:
        since, changed = now - timedelta(days=first_sync_days), None
    else:
        since, changed = now - timedelta(days=lookback_days), state.synced_until - OVERLAP
    state.window_since, state.window_to, state.changed_since = since, now, changed
    state.updated_at = now
    return Window(since, now, changed, "", False)


async def take_page(
    tx: Transaction,
    seller_id: str,
    page: PostingPage,
    *,
    now: datetime,
    sellers: set[str],
    keys: ClaimKeys | None,
) -> PageOutcome:
    """Upsert the page's postings and move the pull past the page, in the caller's one
    transaction: a page is taken in whole or not at all, and never twice."""
    outcome = PageOutcome()
    numbers = [p.posting_number for p in page.postings]
    known = {
        o.number: o
        for o in await tx.session.scalars(
            select(Order).where(
                Order.seller_id == seller_id,
                Order.marketplace == MARKETPLACE,
                Order.number.in_(numbers),
            )
        )
    }
    for unreadable in page.unreadable:
        await _set_aside(
            tx, seller_id, unreadable.key, unreadable.reason, raw=unreadable.raw, now=now
        )
        outcome.set_aside.append((unreadable.key, unreadable.reason))
    for posting in page.postings:
        try:
            raw = order_from_posting(posting, seller_id, known.get(posting.posting_number), now)
            done = await save_order(tx, validate_order(raw), sellers=sellers, now=now, keys=keys)
        except OrderRefusedError as refused:
            await _set_aside(
                tx, seller_id, posting.posting_number, str(refused), raw=posting.raw, now=now
            )
            outcome.set_aside.append((posting.posting_number, str(refused)))
            continue
        setattr(outcome, done, getattr(outcome, done) + 1)
        await tx.session.execute(
            delete(MarketplaceReject).where(
                MarketplaceReject.seller_id == seller_id,
                MarketplaceReject.marketplace == MARKETPLACE,
                MarketplaceReject.record == posting.posting_number,
            )
        )
    state = await _state(tx, seller_id, now)
    state.updated_at = now
    state.last_error = None
    if page.has_next and page.cursor:
        state.cursor = page.cursor
    else:
        state.synced_until = state.window_to
        state.cursor = state.window_since = state.window_to = state.changed_since = None
    return outcome


async def failed(tx: Transaction, seller_id: str, error: str, now: datetime) -> None:
    """Note why a pull stopped; it resumes from its last page next time."""
    state = await _state(tx, seller_id, now)
    state.last_error = error[:2000]
    state.updated_at = now


async def restart_window(tx: Transaction, seller_id: str, now: datetime) -> None:
    """Forget the page a pull had reached (Ozon refused its cursor): it starts again from its
    first page, which takes nothing in twice."""
    state = await _state(tx, seller_id, now)
    state.cursor = None
    state.updated_at = now


async def sync_state(tx: Transaction, seller_id: str) -> MarketplaceSync | None:
    return await tx.session.get(MarketplaceSync, (seller_id, MARKETPLACE))


async def set_aside(tx: Transaction, seller_id: str) -> list[MarketplaceReject]:
    return list(
        await tx.session.scalars(
            select(MarketplaceReject)
            .where(
                MarketplaceReject.seller_id == seller_id,
                MarketplaceReject.marketplace == MARKETPLACE,
            )
            .order_by(MarketplaceReject.record)
        )
    )


def order_from_posting(
    posting: Posting, seller_id: str, known: Order | None, now: datetime
) -> dict[str, Any]:
    """The posting as an order of the import's JSON (docs/importing.md); OrderRefusedError for
    what no order can say."""
    status = STATUSES.get(posting.status)
    if status is None:
        raise OrderRefusedError(f"status {posting.status!r} is not one Ozon documents")
    if posting.in_process_at is None:
        raise OrderRefusedError("in_process_at: missing (when the order was placed)")
    if not posting.products:
        raise OrderRefusedError("products: none")
    currencies = {p.currency for p in posting.products}
    if len(currencies) > 1:
        raise OrderRefusedError(f"products in several currencies: {sorted(currencies)}")
    paid = sum((p.price * p.quantity for p in posting.products), Decimal(0))
    shipped_at = posting.delivering_date
    if shipped_at is None and status in _SHIPPED:
        shipped_at = _first_seen(known, "shipped_at", now)
    return {
        "marketplace": MARKETPLACE,
        "number": posting.posting_number,
        "order_number": posting.order_number or None,
        "marketplace_status": posting.status,
        "seller": seller_id,
        "buyer": {"name": posting.customer_name[:200]},
        "currency": currencies.pop(),
        "paid": paid,
        "status": status,
        "placed_at": posting.in_process_at,
        "shipped_at": shipped_at,
        "delivered_at": (
            _first_seen(known, "delivered_at", now) if status == OrderStatus.DELIVERED else None
        ),
        "cancelled_at": (
            _first_seen(known, "cancelled_at", now) if status == OrderStatus.CANCELLED else None
        ),
        "tracking_number": posting.tracking_number or None,
        "items": [
            {
                "sku": p.sku,
                "offer_id": p.offer_id or None,
                "title": p.name or p.offer_id or p.sku,
                "quantity": p.quantity,
                "unit_price": p.price,
            }
            for p in posting.products
        ],
    }


def _first_seen(known: Order | None, name: str, now: datetime) -> datetime:
    """Ozon's posting names no time it was delivered or cancelled: the time the sync first saw
    it so, kept from then on so a later pull changes nothing."""
    met(Fact.POSTING_DONE_TIMES, name)
    kept: datetime | None = getattr(known, name) if known is not None else None
    return kept or now


async def _state(tx: Transaction, seller_id: str, now: datetime) -> MarketplaceSync:
    state = await tx.session.get(MarketplaceSync, (seller_id, MARKETPLACE), with_for_update=True)
    if state is None:
        state = MarketplaceSync(seller_id=seller_id, marketplace=MARKETPLACE, updated_at=now)
        tx.session.add(state)
        await tx.session.flush()
    return state


async def _set_aside(
    tx: Transaction, seller_id: str, record: str, reason: str, *, raw: Any, now: datetime
) -> None:
    found = await tx.session.scalar(
        select(MarketplaceReject).where(
            MarketplaceReject.seller_id == seller_id,
            MarketplaceReject.marketplace == MARKETPLACE,
            MarketplaceReject.record == record[:128],
        )
    )
    # Kept to show what was wrong, not who the buyer is: their name and address stay out.
    data = (
        {k: v for k, v in raw.items() if k not in PERSONAL}
        if isinstance(raw, dict)
        else {"value": raw}
    )
    if found is None:
        tx.session.add(
            MarketplaceReject(
                seller_id=seller_id,
                marketplace=MARKETPLACE,
                record=record[:128],
                reason=reason,
                data=data,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    else:
        found.reason, found.data, found.last_seen_at = reason, data, now
