"""Order import from JSON or CSV, idempotent: a re-import updates orders, never duplicates them.

A bad row is reported with its position and skipped; the good rows are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global
from babel.numbers import get_territory_currencies, list_currencies
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError

from bot.config.shop import Language, ShopConfig
from bot.domain.claims import CheckKind, ClaimKeys, normalise
from bot.domain.enums import OrderStatus
from bot.domain.money import MAX_AMOUNT, Money
from bot.services.order_files import DATE_FIELDS, ImportProblem, Rows, open_order_file
from bot.storage.models import Buyer, Case, Order, OrderItem
from bot.storage.transaction import Transaction

__all__ = [
    "ImportProblem",
    "ImportReport",
    "OrderIn",
    "OrderRefusedError",
    "RowOutcome",
    "import_orders",
    "import_rows",
    "save_order",
    "take_turn",
    "validate_order",
]

Text = Annotated[str, Field(min_length=1, max_length=300)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
# The bounds of the columns the values go to (bot/storage/models.py): money in BigInteger minor
# units, where MAX_AMOUNT keeps even a currency of four decimals far inside 64 bits (and inside
# Decimal's 28 digits when the amount is checked against its currency); Telegram ids in BigInteger.
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT)]
BIGINT_MAX = 2**63 - 1
# The date each status needs, so the bot can reason about windows and promises.
NEEDED_DATE = {
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.IN_TRANSIT: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.COMPLETED: "delivered_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # PostgreSQL's text cannot hold NUL (SQLite would, and the two must agree).
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character")
        return value


class BuyerIn(_Row):
    telegram_id: Annotated[int, Field(gt=0, le=BIGINT_MAX)] | None = None
    name: Annotated[str, Field(max_length=200)] = ""
    language: Language | None = None
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    # What a buyer who types the order's number is asked for (docs/claiming.md): only the
    # phone's last four digits are kept, and both only as HMACs.
    phone: Annotated[str, Field(max_length=32)] | None = None
    postal_code: Annotated[str, Field(max_length=16)] | None = None

    @field_validator("phone")
    @classmethod
    def _four_digits(cls, value: str | None) -> str | None:
        if value and not normalise(CheckKind.PHONE_LAST4, value):
            raise ValueError("needs at least its last four digits")
        return value or None

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value and not normalise(CheckKind.POSTAL_CODE, value):
            raise ValueError("has no letter or digit")
        return value or None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value


class ItemIn(_Row):
    sku: Code
    offer_id: Code | None = None  # the seller's own article, where the marketplace has one
    title: Text
    quantity: Annotated[int, Field(gt=0, le=100_000)]
    unit_price: Amount


class OrderIn(_Row):
    marketplace: Annotated[str, Field(min_length=1, max_length=32)]
    number: Code
    seller: Code
    buyer: BuyerIn = Field(default_factory=BuyerIn)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    paid: Amount
    shipping: Amount = Decimal(0)
    status: OrderStatus
    placed_at: AwareDatetime
    confirmed_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    tracking_number: Annotated[str, Field(max_length=64)] | None = None
    # From a marketplace's API (docs/ozon.md): `number` is then the shipment's own, and these the
    # order as the buyer sees it and the marketplace's own status.
    order_number: Code | None = None
    marketplace_status: Code | None = None
    items: Annotated[list[ItemIn], Field(min_length=1)]

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        if value not in _known_currencies():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @field_validator(*DATE_FIELDS)
    @classmethod
    def _in_utc_range(cls, value: datetime | None) -> datetime | None:
        # Times are stored in UTC (bot/storage/types.py); 9999-12-31T23:00-05:00 has no UTC.
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError as exc:
                raise ValueError("is past the year 9999 in UTC") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OrderIn:
        placed = self.placed_at.astimezone(UTC).date()
        if self.currency not in _tender_on(placed):
            raise ValueError(
                f"currency: {self.currency} was not legal tender anywhere on {placed.isoformat()}"
            )
        for amount in (self.paid, self.shipping, *(i.unit_price for i in self.items)):
            Money(amount, self.currency)  # raises on too many decimals for the currency
        skus = [i.sku for i in self.items]
        if len(skus) != len(set(skus)):
            raise ValueError("each SKU may appear once per order")
        needed = NEEDED_DATE.get(self.status)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"status {self.status.value} needs {needed}")
        return self


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=16)
def _tender_on(day: date) -> frozenset[str]:
    """The currencies some territory used as legal tender on `day`, as CLDR knows them:
    not withdrawn ones (RUR), metals (XAU) or the codes for testing (XTS)."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, day, tender=True)
    )


@dataclass
class RowOutcome:
    """What became of one order of a file or a push: created, updated, unchanged or refused
    (then `problem` says why); `marketplace` and `number` as the row gave them, if it did."""

    position: str
    result: str
    marketplace: str | None = None
    number: str | None = None
    problem: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    encoding: str = "utf-8"  # what the file's text was read as
    outcomes: list[RowOutcome] = field(default_factory=list)  # every row's, in order

    def refuse(self, problem: ImportProblem, raw: dict[str, Any] | None = None) -> None:
        self.problems.append(problem)
        self.outcomes.append(_outcome(problem.position, "refused", raw, problem.message))

    def count(self, position: str, result: str, raw: dict[str, Any]) -> None:
        setattr(self, result, getattr(self, result) + 1)
        self.outcomes.append(_outcome(position, result, raw))

    @property
    def ok(self) -> bool:
        return not self.problems


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _outcome(
    position: str, result: str, raw: dict[str, Any] | None, problem: str | None = None
) -> RowOutcome:
    def text(name: str) -> str | None:
        value = (raw or {}).get(name)
        return value.strip() if isinstance(value, str) else None

    return RowOutcome(position, result, text("marketplace"), text("number"), problem)


# -- writing -----------------------------------------------------------------------------------

# Imports take turns on PostgreSQL (a transaction-scoped advisory lock, "Orders"): two at once
# that carry the same new order or buyer would both find it missing and both insert it, and the
# second would be refused by the unique key. SQLite's writers already take turns
# (docs/locking.md).
_TAKE_TURN = select(func.pg_advisory_xact_lock(0x4F7264657273))


async def import_orders(
    tx: Transaction,
    path: Path,
    *,
    shop: ShopConfig,
    now: datetime,
    encoding: str | None = None,
    keys: ClaimKeys | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Import the file's orders; `encoding` names the file's, else it is told from its bytes.
    `keys` hash the phone digits and postal codes (without them, an order carrying either is
    refused rather than stored in the clear). `on_row` is called as each row is done (a
    progress bar)."""
    opened = open_order_file(path, encoding)
    if isinstance(opened, ImportProblem):
        report = ImportReport()
        report.refuse(opened)
        return report
    report = await import_rows(tx, opened.rows(), shop=shop, now=now, keys=keys, on_row=on_row)
    report.encoding = opened.encoding
    return report


async def take_turn(tx: Transaction) -> None:
    """Wait for any other import, push or marketplace pull writing orders to commit; first in
    the transaction (docs/locking.md)."""
    if tx.session.get_bind().dialect.name == "postgresql":
        await tx.session.execute(_TAKE_TURN)


async def import_rows(
    tx: Transaction,
    rows: Rows,
    *,
    shop: ShopConfig,
    now: datetime,
    keys: ClaimKeys | None = None,
    sellers: Collection[str] | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Import raw orders (a file's rows, or an HTTP push's): each checked and written on its
    own, in a savepoint; a bad one is reported with its position and the others are kept.
    `sellers` limits whose orders may be written (default: every seller of the shop file)."""
    report = ImportReport()
    allowed = {s.id for s in shop.sellers} if sellers is None else set(sellers)
    await take_turn(tx)
    for position, raw in rows:
        if on_row is not None:
            on_row()
        if isinstance(raw, ImportProblem):
            report.refuse(raw)
            continue
        try:
            outcome = await save_order(tx, validate_order(raw), sellers=allowed, now=now, keys=keys)
        except OrderRefusedError as exc:
            report.refuse(ImportProblem(position, str(exc)), raw)
            continue
        report.count(position, outcome, raw)
    return report


class OrderRefusedError(Exception):
    """One order that cannot be taken in, and why; the others still are."""


class _RowError(OrderRefusedError):
    pass


def validate_order(raw: Any) -> OrderIn:
    """An order as the import takes it in, or OrderRefusedError naming every field at fault."""
    try:
        return OrderIn.model_validate(raw)
    except ValidationError as exc:
        raise OrderRefusedError(_explain(exc)) from exc


async def save_order(
    tx: Transaction,
    order_in: OrderIn,
    *,
    sellers: set[str],
    now: datetime,
    keys: ClaimKeys | None,
) -> str:
    """Create or update one order (matched on seller, marketplace and number) in a savepoint of
    its own: "created", "updated" or "unchanged", or OrderRefusedError with only this order
    undone. The one upsert of orders, for files and marketplaces' APIs alike."""
    if order_in.seller not in sellers:
        raise OrderRefusedError(f"seller {order_in.seller!r} is not in the shop file")
    if keys is None and (order_in.buyer.phone or order_in.buyer.postal_code):
        raise OrderRefusedError(
            "buyer.phone/postal_code: set RETURNDESK_LINK_SECRET first; they are "
            "stored only hashed with it (docs/claiming.md)"
        )
    try:
        async with tx.session.begin_nested():
            return await _upsert(tx, order_in, now, keys)
    except (DataError, IntegrityError) as exc:
        # The checks above should leave the database nothing to refuse; if it still does,
        # that is one row's problem, and the savepoint has undone only that row.
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise OrderRefusedError(f"the database refused it: {reason}") from exc


async def _upsert(tx: Transaction, data: OrderIn, now: datetime, keys: ClaimKeys | None) -> str:
    if data.buyer.telegram_id is not None:
        await _upsert_buyer(tx, data.buyer)
    order = await tx.session.scalar(
        select(Order).where(
            Order.seller_id == data.seller,
            Order.marketplace == data.marketplace,
            Order.number == data.number,
        )
    )
    created = order is None
    if order is None:
        order = Order(
            seller_id=data.seller,
            marketplace=data.marketplace,
            number=data.number,
            refunded_minor=0,
            imported_at=now,
            items=[],
        )
        tx.session.add(order)
    elif order.currency != data.currency:
        raise _RowError(f"currency changed from {order.currency} to {data.currency}")
    before = _snapshot(order)
    paid = Money(data.paid, data.currency)
    shipping = Money(data.shipping, data.currency)
    if paid.minor + shipping.minor < order.refunded_minor:
        raise _RowError(
            f"paid {paid + shipping} is less than the {order.refunded} already refunded"
        )
    if data.buyer.telegram_id is not None:
        order.buyer_id = data.buyer.telegram_id
    # Without a Telegram id the order keeps whoever claimed it (docs/claiming.md): importing
    # the marketplace's file again must not take it away from them.
    order.buyer_name = data.buyer.name
    order.buyer_language = data.buyer.language
    order.buyer_timezone = data.buyer.timezone
    if keys is not None:
        order.phone_hash = _hashed(keys, CheckKind.PHONE_LAST4, data.buyer.phone)
        order.postal_hash = _hashed(keys, CheckKind.POSTAL_CODE, data.buyer.postal_code)
    order.currency = data.currency
    order.paid_minor = paid.minor
    order.shipping_minor = shipping.minor
    order.status = data.status
    order.tracking_number = data.tracking_number
    order.order_number = data.order_number
    order.marketplace_status = data.marketplace_status
    for name in DATE_FIELDS:
        setattr(order, name, getattr(data, name))
    await _sync_items(tx, order, data)
    if created:
        return "created"
    if _snapshot(order) == before:
        return "unchanged"
    order.imported_at = now
    return "updated"


async def _sync_items(tx: Transaction, order: Order, data: OrderIn) -> None:
    existing = {item.sku: item for item in order.items}
    for position, item_in in enumerate(data.items):
        item = existing.pop(item_in.sku, None)
        if item is None:
            item = OrderItem(sku=item_in.sku)
            order.items.append(item)
        item.position = position
        item.offer_id = item_in.offer_id
        item.title = item_in.title
        item.quantity = item_in.quantity
        item.unit_price_minor = Money(item_in.unit_price, data.currency).minor
    for sku, gone in existing.items():
        referenced = await tx.session.scalar(
            select(Case.id).where(Case.item_id == gone.id).limit(1)
        )
        if referenced is not None:
            raise _RowError(f"item {sku} has a case (#{referenced}) and cannot be removed")
        order.items.remove(gone)


async def _upsert_buyer(tx: Transaction, data: BuyerIn) -> None:
    assert data.telegram_id is not None
    buyer = await tx.session.get(Buyer, data.telegram_id)
    if buyer is None:
        buyer = Buyer(telegram_id=data.telegram_id, name=data.name)
        tx.session.add(buyer)
    # The marketplace's idea of the buyer's language is the weakest hint: the Telegram client's
    # language code replaces it, and the buyer's own /language choice outranks both.
    if data.language and buyer.language_code is None:
        buyer.language_code = data.language
    if data.name:
        buyer.name = data.name
    buyer.timezone = data.timezone
    await tx.session.flush()


def _hashed(keys: ClaimKeys, kind: CheckKind, value: str | None) -> str | None:
    return None if value is None else keys.fingerprint(kind, value)


def _snapshot(order: Order) -> tuple[Any, ...]:
    return (
        order.buyer_id,
        order.buyer_name,
        order.buyer_language,
        order.buyer_timezone,
        order.phone_hash,
        order.postal_hash,
        order.paid_minor,
        order.shipping_minor,
        order.status,
        order.tracking_number,
        order.order_number,
        order.marketplace_status,
        *(getattr(order, f) for f in DATE_FIELDS),
        tuple(
            (i.sku, i.offer_id, i.title, i.quantity, i.unit_price_minor, i.position)
            for i in order.items
        ),
    )
