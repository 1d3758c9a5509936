"""Order import from JSON or CSV, idempotent: a re-import updates orders, never duplicates them.

A bad row is reported with its position and skipped; the good rows are kept.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.shop import ShopConfig
from bot.domain.enums import OrderStatus
from bot.domain.money import Money
from bot.storage.models import Buyer, Case, Order, OrderItem

Text = Annotated[str, Field(min_length=1, max_length=300)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
DATE_FIELDS = (
    "placed_at",
    "confirmed_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
)
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


class BuyerIn(_Row):
    telegram_id: Annotated[int, Field(gt=0)] | None = None
    name: Annotated[str, Field(max_length=200)] = ""
    language: Literal["en", "ru", "zh"] | None = None
    timezone: str = "UTC"

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
    title: Text
    quantity: Annotated[int, Field(gt=0, le=100_000)]
    unit_price: Annotated[Decimal, Field(ge=0)]


class OrderIn(_Row):
    marketplace: Annotated[str, Field(min_length=1, max_length=32)]
    number: Code
    seller: Code
    buyer: BuyerIn = Field(default_factory=BuyerIn)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    paid: Annotated[Decimal, Field(ge=0)]
    shipping: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    status: OrderStatus
    placed_at: AwareDatetime
    confirmed_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    tracking_number: Annotated[str, Field(max_length=64)] | None = None
    items: Annotated[list[ItemIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> OrderIn:
        for amount in (self.paid, self.shipping, *(i.unit_price for i in self.items)):
            Money(amount, self.currency)  # raises on too many decimals for the currency
        skus = [i.sku for i in self.items]
        if len(skus) != len(set(skus)):
            raise ValueError("each SKU may appear once per order")
        needed = NEEDED_DATE.get(self.status)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"status {self.status.value} needs {needed}")
        return self


@dataclass
class ImportProblem:
    position: str  # "order 3" (JSON) or "line 7" (CSV)
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

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


# -- reading -----------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | ImportProblem]]:
    """Yield (position, raw order) pairs, or a problem for rows that can't even be read."""
    if path.suffix.lower() == ".csv":
        yield from _read_csv(path)
    else:
        yield from _read_json(path)


def _read_json(path: Path) -> Iterator[tuple[str, dict[str, Any] | ImportProblem]]:
    try:
        # Decimals, not floats: money in the file stays exact.
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        yield "file", ImportProblem("file", f"cannot read JSON: {exc}")
        return
    orders = data.get("orders") if isinstance(data, dict) else data
    if not isinstance(orders, list):
        yield "file", ImportProblem("file", 'expected {"orders": [...]} or a list of orders')
        return
    for index, raw in enumerate(orders, start=1):
        position = f"order {index}"
        if isinstance(raw, dict):
            yield position, raw
        else:
            yield position, ImportProblem(position, "an order must be an object")


CSV_ORDER_FIELDS = (
    "marketplace",
    "number",
    "seller",
    "currency",
    "paid",
    "shipping",
    "status",
    *DATE_FIELDS,
    "tracking_number",
)
CSV_BUYER_FIELDS = ("telegram_id", "name", "language", "timezone")
CSV_ITEM_FIELDS = ("sku", "title", "quantity", "unit_price")


def _read_csv(path: Path) -> Iterator[tuple[str, dict[str, Any] | ImportProblem]]:
    """One line per item; lines of the same order (seller, marketplace, number) are joined."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        yield "file", ImportProblem("file", f"cannot read CSV: {exc.strerror}")
        return
    grouped: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    with handle:
        reader = csv.DictReader(handle)
        for line_no, line in enumerate(reader, start=2):
            position = f"line {line_no}"
            if None in line:
                yield position, ImportProblem(position, "more values than columns")
                continue
            values = {k.strip(): (v or "").strip() for k, v in line.items() if k}
            key = (
                values.get("seller", ""),
                values.get("marketplace", ""),
                values.get("number", ""),
            )
            order = {f: values[f] for f in CSV_ORDER_FIELDS if values.get(f)}
            order["buyer"] = {
                f: values[f"buyer_{f}"] for f in CSV_BUYER_FIELDS if values.get(f"buyer_{f}")
            }
            item = {f: values.get(f, "") for f in CSV_ITEM_FIELDS}
            if key in grouped:
                first_position, existing = grouped[key]
                same = all(existing.get(f) == order.get(f) for f in CSV_ORDER_FIELDS)
                if not same or existing["buyer"] != order["buyer"]:
                    yield (
                        position,
                        ImportProblem(
                            position, f"order fields differ from {first_position} of the same order"
                        ),
                    )
                    continue
                existing["items"].append(item)
            else:
                order["items"] = [item]
                grouped[key] = (position, order)
    yield from ((position, order) for position, order in grouped.values())


# -- writing -----------------------------------------------------------------------------------


async def import_orders(
    session: AsyncSession, path: Path, *, shop: ShopConfig, now: datetime
) -> ImportReport:
    report = ImportReport()
    sellers = {s.id for s in shop.sellers}
    for position, raw in read_rows(path):
        if isinstance(raw, ImportProblem):
            report.problems.append(raw)
            continue
        try:
            order_in = OrderIn.model_validate(raw)
        except ValidationError as exc:
            report.problems.append(ImportProblem(position, _explain(exc)))
            continue
        if order_in.seller not in sellers:
            report.problems.append(
                ImportProblem(position, f"seller {order_in.seller!r} is not in the shop file")
            )
            continue
        try:
            async with session.begin_nested():
                outcome = await _upsert(session, order_in, now)
        except _RowError as exc:
            report.problems.append(ImportProblem(position, str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


class _RowError(Exception):
    pass


async def _upsert(session: AsyncSession, data: OrderIn, now: datetime) -> str:
    if data.buyer.telegram_id is not None:
        await _upsert_buyer(session, data.buyer)
    order = await session.scalar(
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
        session.add(order)
    elif order.currency != data.currency:
        raise _RowError(f"currency changed from {order.currency} to {data.currency}")
    before = _snapshot(order)
    paid = Money(data.paid, data.currency)
    shipping = Money(data.shipping, data.currency)
    if paid.minor + shipping.minor < order.refunded_minor:
        raise _RowError(
            f"paid {paid + shipping} is less than the {order.refunded} already refunded"
        )
    order.buyer_id = data.buyer.telegram_id
    order.currency = data.currency
    order.paid_minor = paid.minor
    order.shipping_minor = shipping.minor
    order.status = data.status
    order.tracking_number = data.tracking_number
    for name in DATE_FIELDS:
        setattr(order, name, getattr(data, name))
    await _sync_items(session, order, data)
    if created:
        return "created"
    if _snapshot(order) == before:
        return "unchanged"
    order.imported_at = now
    return "updated"


async def _sync_items(session: AsyncSession, order: Order, data: OrderIn) -> None:
    existing = {item.sku: item for item in order.items}
    for position, item_in in enumerate(data.items):
        item = existing.pop(item_in.sku, None)
        if item is None:
            item = OrderItem(sku=item_in.sku)
            order.items.append(item)
        item.position = position
        item.title = item_in.title
        item.quantity = item_in.quantity
        item.unit_price_minor = Money(item_in.unit_price, data.currency).minor
    for sku, gone in existing.items():
        referenced = await session.scalar(select(Case.id).where(Case.item_id == gone.id).limit(1))
        if referenced is not None:
            raise _RowError(f"item {sku} has a case (#{referenced}) and cannot be removed")
        order.items.remove(gone)


async def _upsert_buyer(session: AsyncSession, data: BuyerIn) -> None:
    assert data.telegram_id is not None
    buyer = await session.get(Buyer, data.telegram_id)
    if buyer is None:
        buyer = Buyer(telegram_id=data.telegram_id, name=data.name)
        session.add(buyer)
    # The marketplace's idea of the buyer's language is the weakest hint: the Telegram client's
    # language code replaces it, and the buyer's own /language choice outranks both.
    if data.language and buyer.language_code is None:
        buyer.language_code = data.language
    if data.name:
        buyer.name = data.name
    buyer.timezone = data.timezone
    await session.flush()


def _snapshot(order: Order) -> tuple[Any, ...]:
    return (
        order.buyer_id,
        order.paid_minor,
        order.shipping_minor,
        order.status,
        order.tracking_number,
        *(getattr(order, f) for f in DATE_FIELDS),
        tuple((i.sku, i.title, i.quantity, i.unit_price_minor, i.position) for i in order.items),
    )
