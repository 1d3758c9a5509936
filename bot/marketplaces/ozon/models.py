"""Ozon's answers as plain values (docs/ozon.md). Each `parse_*` reads one record and raises
`ShapeError` for what it cannot read; page readers keep the records they could read and list the
others with the reason, so one odd record never hides the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from bot.marketplaces.ozon.parsing import (
    ShapeError,
    decimal,
    integer,
    items,
    obj,
    text,
    time,
)
from bot.marketplaces.ozon.unconfirmed import Fact, met


@dataclass(frozen=True)
class Unreadable:
    """A record of a page that could not be read: what names it, and why."""

    key: str
    reason: str
    raw: Any = None


T = TypeVar("T")


def _each(
    records: Iterable[Any], where: str, key: str, parse: Callable[[Any], T]
) -> tuple[list[T], list[Unreadable]]:
    """Every record of a page parsed, and those that cannot be set aside by the `key` that
    names them (else their place on the page): one bad record never stops the others."""
    parsed: list[T] = []
    unreadable: list[Unreadable] = []
    for n, raw in enumerate(records):
        try:
            parsed.append(parse(raw))
        except ShapeError as error:
            name = raw.get(key) if isinstance(raw, dict) else None
            unreadable.append(Unreadable(str(name or f"{where}[{n}]"), str(error), raw))
    return parsed, unreadable


# -- postings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingProduct:
    sku: str
    offer_id: str
    name: str
    quantity: int
    price: Decimal
    currency: str


@dataclass(frozen=True)
class Posting:
    posting_number: str
    order_number: str
    order_id: int | None
    status: str
    in_process_at: datetime | None
    shipment_date: datetime | None
    delivering_date: datetime | None
    tracking_number: str
    customer_name: str
    products: tuple[PostingProduct, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class PostingPage:
    postings: list[Posting]
    unreadable: list[Unreadable]
    cursor: str
    has_next: bool


def _product_price(product: dict[str, Any], where: str) -> tuple[Decimal, str]:
    price = product.get("price")
    if isinstance(price, dict):  # the v4 example: {amount, currency}
        met(Fact.POSTINGS_V4_SHAPE, where)
        amount = decimal(price.get("amount"), f"{where}.price.amount")
        currency = text(price, "currency") or text(product, "currency_code")
    else:  # the v3 schema: price (string) and currency_code beside it
        amount = decimal(price, f"{where}.price")
        currency = text(product, "currency_code")
    if not currency:
        raise ShapeError(f"{where}: no currency")
    return amount, currency.upper()


def parse_posting(raw: Any) -> Posting:
    data = obj(raw, "posting")
    products = []
    for n, entry in enumerate(items(data.get("products"), "products")):
        product = obj(entry, f"products[{n}]")
        price, currency = _product_price(product, f"products[{n}]")
        quantity = integer(product, "quantity", required=True)
        assert quantity is not None
        products.append(
            PostingProduct(
                sku=text(product, "sku", required=True),
                offer_id=text(product, "offer_id"),
                name=text(product, "name"),
                quantity=quantity,
                price=price,
                currency=currency,
            )
        )
    customer = data.get("customer")
    return Posting(
        posting_number=text(data, "posting_number", required=True),
        order_number=text(data, "order_number"),
        order_id=integer(data, "order_id"),
        status=text(data, "status", required=True),
        in_process_at=time(data, "in_process_at"),
        shipment_date=time(data, "shipment_date"),
        delivering_date=time(data, "delivering_date"),
        tracking_number=text(data, "tracking_number"),
        customer_name=text(customer, "name") if isinstance(customer, dict) else "",
        products=tuple(products),
        raw=data,
    )


def parse_posting_page(body: dict[str, Any]) -> PostingPage:
    # v4 puts postings at the top; v3 wrapped them in `result`: read either.
    holder = body["result"] if isinstance(body.get("result"), dict) else body
    records = items(holder.get("postings"), "postings")
    postings, unreadable = _each(records, "postings", "posting_number", parse_posting)
    return PostingPage(
        postings=postings,
        unreadable=unreadable,
        cursor=str(holder.get("cursor") or ""),
        has_next=bool(holder.get("has_next")),
    )


# -- rFBS returns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnProduct:
    sku: str
    offer_id: str
    name: str
    price: Decimal | None
    currency: str


@dataclass(frozen=True)
class RfbsReturn:
    return_id: int
    return_number: str
    order_number: str
    posting_number: str
    client_name: str
    created_at: datetime | None
    product: ReturnProduct | None
    group_state: str
    state: str
    state_name: str
    money_return_state_name: str


@dataclass(frozen=True)
class RfbsReturnPage:
    returns: list[RfbsReturn]
    unreadable: list[Unreadable]

    @property
    def last_id(self) -> int | None:
        """What to pass as `last_id` for the next page (the reference has no next-page field)."""
        return self.returns[-1].return_id if self.returns else None


@dataclass(frozen=True)
class ReturnAction:
    id: int
    name: str


@dataclass(frozen=True)
class RejectionReason:
    id: int
    name: str
    hint: str
    is_comment_required: bool


@dataclass(frozen=True)
class RfbsReturnDetail:
    return_id: int
    order_number: str
    posting_number: str
    available_actions: tuple[ReturnAction, ...]
    rejection_reasons: tuple[RejectionReason, ...]
    reason_id: int | None
    reason_name: str
    reason_is_defect: bool
    client_photos: tuple[str, ...]
    comment: str
    return_method_description: str
    ru_post_tracking_number: str
    state: str
    state_name: str
    product: ReturnProduct | None

    def action(self, action_id: int) -> ReturnAction | None:
        return next((a for a in self.available_actions if a.id == action_id), None)


def _return_product(raw: Any) -> ReturnProduct | None:
    if not isinstance(raw, dict) or not raw:
        return None
    price = raw.get("price")
    return ReturnProduct(
        sku=text(raw, "sku"),
        offer_id=text(raw, "offer_id"),
        name=text(raw, "name"),
        price=None if price in (None, "") else decimal(price, "product.price"),
        currency=text(raw, "currency_code").upper(),
    )


def _state(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def parse_rfbs_return(raw: Any) -> RfbsReturn:
    data = obj(raw, "return")
    return_id = integer(data, "return_id", required=True)
    assert return_id is not None
    state = _state(data.get("state"))
    return RfbsReturn(
        return_id=return_id,
        return_number=text(data, "return_number"),
        order_number=text(data, "order_number"),
        posting_number=text(data, "posting_number"),
        client_name=text(data, "client_name"),
        created_at=time(data, "created_at"),
        product=_return_product(data.get("product")),
        group_state=text(state, "group_state"),
        state=text(state, "state"),
        state_name=text(state, "state_name"),
        money_return_state_name=text(state, "money_return_state_name"),
    )


def _one_or_many(value: Any, where: str) -> list[Any]:
    """The reference types `returns` as an object, the newer example as a list: read both."""
    if isinstance(value, list):
        met(Fact.RETURNS_AS_LIST, where)
        return value
    if isinstance(value, dict):
        met(Fact.RETURNS_AS_OBJECT, where)
        return [value] if value else []
    if value is None:
        return []
    raise ShapeError(f"{where}: expected an object or a list, got {type(value).__name__}")


def parse_rfbs_return_page(body: dict[str, Any]) -> RfbsReturnPage:
    records = _one_or_many(body.get("returns"), "returns")
    return RfbsReturnPage(*_each(records, "returns", "return_id", parse_rfbs_return))


def _action(raw: Any, where: str) -> ReturnAction:
    data = obj(raw, where)
    if isinstance(data.get("action"), dict):  # the newer example nests it
        met(Fact.ACTION_NESTED, where)
        data = data["action"]
    action_id = integer(data, "id", required=True)
    assert action_id is not None
    return ReturnAction(action_id, text(data, "name"))


def parse_rfbs_return_detail(body: dict[str, Any], return_id: int) -> RfbsReturnDetail:
    found = _one_or_many(body.get("returns"), "returns")
    if not found:
        raise ShapeError("returns: empty")
    data = obj(found[0], "returns")
    reasons = []
    for n, raw in enumerate(items(data.get("rejection_reason"), "rejection_reason")):
        reason = obj(raw, f"rejection_reason[{n}]")
        reason_id = integer(reason, "id", required=True)
        assert reason_id is not None
        reasons.append(
            RejectionReason(
                reason_id,
                text(reason, "name"),
                text(reason, "hint"),
                bool(reason.get("is_comment_required")),
            )
        )
    why = _state(data.get("return_reason"))
    state = _state(data.get("state"))
    photos = []
    for raw in items(data.get("client_photo"), "client_photo"):
        # Photos are links; an object form keeps its url.
        url = raw.get("url") if isinstance(raw, dict) else raw
        if isinstance(url, str) and url:
            photos.append(url)
    return RfbsReturnDetail(
        return_id=integer(data, "return_id") or return_id,
        order_number=text(data, "order_number"),
        posting_number=text(data, "posting_number"),
        available_actions=tuple(
            _action(raw, f"available_actions[{n}]")
            for n, raw in enumerate(items(data.get("available_actions"), "available_actions"))
        ),
        rejection_reasons=tuple(reasons),
        reason_id=integer(why, "id"),
        reason_name=text(why, "name"),
        reason_is_defect=bool(why.get("is_defect")),
        client_photos=tuple(photos),
        comment=text(data, "comment"),
        return_method_description=text(data, "return_method_description"),
        ru_post_tracking_number=text(data, "ru_post_tracking_number"),
        state=text(state, "state"),
        state_name=text(state, "state_name"),
        product=_return_product(data.get("product")),
    )


# -- FBO/FBS returns (read-only) ---------------------------------------------------------------


@dataclass(frozen=True)
class SellerReturn:
    id: int
    order_number: str
    posting_number: str
    reason: str
    type: str
    schema: str
    sku: str
    offer_id: str
    name: str
    quantity: int | None
    price: Decimal | None
    currency: str
    return_date: datetime | None
    status: str
    status_name: str
    status_changed_at: datetime | None


@dataclass(frozen=True)
class ReturnPage:
    returns: list[SellerReturn]
    unreadable: list[Unreadable]
    has_next: bool

    @property
    def last_id(self) -> int | None:
        return self.returns[-1].id if self.returns else None


def parse_seller_return(raw: Any) -> SellerReturn:
    data = obj(raw, "return")
    return_id = integer(data, "id", required=True)
    assert return_id is not None
    product = _state(data.get("product"))
    price_box = product.get("price")
    price: Decimal | None = None
    currency = ""
    if isinstance(price_box, dict):
        if price_box.get("price") not in (None, ""):
            price = decimal(price_box.get("price"), "product.price.price")
        currency = text(price_box, "currency_code").upper()
    elif price_box not in (None, ""):
        price = decimal(price_box, "product.price")
    visual = _state(data.get("visual"))
    status = _state(visual.get("status"))
    logistic = _state(data.get("logistic"))
    return SellerReturn(
        id=return_id,
        order_number=text(data, "order_number"),
        posting_number=text(data, "posting_number"),
        reason=text(data, "return_reason_name"),
        type=text(data, "type"),
        schema=text(data, "schema"),
        sku=text(product, "sku"),
        offer_id=text(product, "offer_id"),
        name=text(product, "name"),
        quantity=integer(product, "quantity"),
        price=price,
        currency=currency,
        return_date=time(logistic, "return_date"),
        status=text(status, "sys_name"),
        status_name=text(status, "display_name"),
        status_changed_at=time(visual, "change_moment"),
    )


def parse_return_page(body: dict[str, Any]) -> ReturnPage:
    records = items(body.get("returns"), "returns")
    returns, unreadable = _each(records, "returns", "id", parse_seller_return)
    return ReturnPage(returns, unreadable, bool(body.get("has_next")))


# -- conditional cancellations -----------------------------------------------------------------


@dataclass(frozen=True)
class Cancellation:
    cancellation_id: int
    posting_number: str
    reason_id: int | None
    reason_name: str
    reason_message: str
    cancelled_at: datetime | None
    initiator: str
    state: str
    state_name: str
    auto_approve_date: datetime | None
    approve_comment: str


@dataclass(frozen=True)
class CancellationPage:
    cancellations: list[Cancellation]
    unreadable: list[Unreadable]
    last_id: int | None
    counter: int | None


def parse_cancellation(raw: Any) -> Cancellation:
    data = obj(raw, "cancellation")
    cancellation_id = integer(data, "cancellation_id", required=True)
    assert cancellation_id is not None
    reason = _state(data.get("cancellation_reason"))
    state = _state(data.get("state"))
    return Cancellation(
        cancellation_id=cancellation_id,
        posting_number=text(data, "posting_number"),
        reason_id=integer(reason, "id"),
        reason_name=text(reason, "name"),
        reason_message=text(data, "cancellation_reason_message"),
        cancelled_at=time(data, "cancelled_at"),
        initiator=text(data, "cancellation_initiator"),
        state=text(state, "state"),
        state_name=text(state, "name"),
        auto_approve_date=time(data, "auto_approve_date"),
        approve_comment=text(data, "approve_comment"),
    )


def parse_cancellation_page(body: dict[str, Any]) -> CancellationPage:
    records = items(body.get("result"), "result")
    found, unreadable = _each(records, "result", "cancellation_id", parse_cancellation)
    return CancellationPage(found, unreadable, integer(body, "last_id"), integer(body, "counter"))


# -- roles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    name: str
    methods: tuple[str, ...]
    expires_at: datetime | None = None


def parse_roles(body: dict[str, Any]) -> list[Role]:
    roles = []
    for n, raw in enumerate(items(body.get("roles"), "roles")):
        data = obj(raw, f"roles[{n}]")
        methods = tuple(str(m) for m in items(data.get("methods"), "methods") if m)
        roles.append(Role(text(data, "name"), methods, time(data, "expires_at")))
    return roles
