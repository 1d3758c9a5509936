"""A made-up world with every variable any template uses, to render every template in every
locale without a database (tests/test_templates.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product
from types import SimpleNamespace
from typing import Any

from bot.config.shop import SellerConfig, load_shop
from bot.domain.enums import (
    CaseKind,
    CaseState,
    EscalationReason,
    ItemCondition,
    ItemSettlement,
    OfferStatus,
    OrderStatus,
    PromiseKind,
    PromiseState,
    Reason,
    RefundStatus,
    Remedy,
    Role,
    Want,
)
from bot.domain.money import Money
from bot.domain.offers import EarlierRequest
from bot.services.history import BuyerHistory
from bot.storage.models import (
    Buyer,
    Case,
    CaseEvent,
    Decision,
    Evidence,
    Offer,
    Order,
    OrderItem,
    Promise,
    Refund,
)
from tests.desk import TEST_SHOP

NOW = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)


def seller() -> SellerConfig:
    return load_shop(TEST_SHOP).seller("acme")


def order(status: OrderStatus = OrderStatus.DELIVERED) -> Order:
    built = Order(
        id=7,
        seller_id="acme",
        marketplace="ozon",
        number="A-1001",
        buyer_id=101,
        currency="RUB",
        paid_minor=520000,
        shipping_minor=19900,
        refunded_minor=10000,
        status=status,
        placed_at=NOW - timedelta(days=10),
        delivered_at=NOW - timedelta(days=3),
        tracking_number="RR104455667CN",
        imported_at=NOW,
    )
    built.items = [
        OrderItem(
            id=1, sku="HP-1", title="Headphones <ANC> & case", quantity=1, unit_price_minor=450000
        ),
        OrderItem(id=2, sku="CBL-1", title="Cable", quantity=2, unit_price_minor=35000),
    ]
    return built


def case(kind: CaseKind, state: CaseState, reason: Reason, want: Want | None) -> Case:
    the_order = order()
    built = Case(
        id=12,
        order_id=7,
        buyer_id=101,
        seller_id="acme",
        kind=kind,
        state=state,
        reason=reason,
        want=want,
        item_id=2,
        quantity=1,
        condition=ItemCondition.USED,
        question='How do I <reset> it & "pair" it?',
        return_tracking="RR123456785DE",
        buyer_declines=1,
        created_at=NOW,
        updated_at=NOW,
    )
    built.order = the_order
    built.buyer = Buyer(telegram_id=101, name="Anna <A&B>", timezone="Europe/Berlin")
    return built


def offer(remedy: Remedy, amount: Money | None, decided_by: str | None = "Dora") -> Offer:
    return Offer(
        id=3,
        case_id=12,
        round=1,
        remedy=remedy,
        amount_minor=amount.minor if amount else None,
        currency="RUB",
        standard_remedy=Remedy.PERCENT,
        standard_amount_minor=150000,
        deviation=True,
        proposed_by_role=Role.SELLER,
        status=OfferStatus.OFFERED,
        created_at=NOW,
        decided_by_name=decided_by,
    )


def refund(id: int, status: RefundStatus, **more: Any) -> Refund:
    return Refund(
        id=id,
        order_id=7,
        amount_minor=10000,
        currency="RUB",
        reason=Reason.DEFECT,
        status=status,
        idempotency_key=f"k{id}",
        created_at=NOW,
        **more,
    )


# Templates where "no amount" is a meaning of its own (a replacement, nothing deducted).
AMOUNT_OPTIONAL = {
    "buyer/agreed",
    "buyer/done",
    "seller/agreed",
    "seller/done_recorded",
    "seller/inspection_recorded",
}


def contexts(template: str = "") -> list[dict[str, Any]]:
    """Variants that between them take every branch of the common templates."""
    variants = _variants()
    if template in AMOUNT_OPTIONAL:
        variants += [{**v, "amount": None, "deduction": None} for v in _variants()]
    return variants


def _variants() -> list[dict[str, Any]]:
    money = Money.of("1500.50", "RUB")
    variants = []
    kinds = list(CaseKind)
    remedies = list(Remedy)
    for index, (kind, remedy) in enumerate(product(kinds, remedies)):
        reason = list(Reason)[index % len(Reason)]
        amount = money if remedy.moves_money or remedy is Remedy.COUPON else None
        the_case = case(
            kind, list(CaseState)[index % len(CaseState)], reason, list(Want)[index % len(Want)]
        )
        the_order = order(list(OrderStatus)[index % len(OrderStatus)])
        the_case.order = the_order
        the_case.rating = index % 5 + 1
        the_case.rating_comment = "Too <little> & late" if index % 2 else None
        variants.append(
            {
                "name": "Anna <A&B>" if index % 2 else "",
                "is_decider": bool(index % 2),
                "orders": [the_order] if index % 3 else [],
                "flow": ["problem", "return", "cancel"][index % 3],
                "number": "A-1001 <x>",
                "case": the_case,
                "order": the_order,
                "item": the_order.items[1],
                "limit": money,
                "count": index % 3,
                "reason": reason,
                "offer": offer(remedy, amount, None if index % 2 else "Dora"),
                "declined": offer(remedy, amount),
                "due": NOW + timedelta(days=1),
                "closes_at": NOW - timedelta(days=2),
                "why": "Too <little> & late",
                "amount": amount or money,
                "deduction": Money.of("100", "RUB"),
                "note": "Torn <cushion>",
                "remedy": remedy,
                "seller": seller(),
                "answer": "Use <vinegar> & water",
                "added": "And the <lid> & handle?",
                "reason_step": bool(index % 2),
                "past": BuyerHistory(
                    timedelta(days=90), index % 3, Money.of(str(index * 100), "RUB")
                ),
                "by": "Dora",
                "report": SimpleNamespace(
                    month="2026-11",
                    seller=None if index % 2 else "acme",
                    totals=SimpleNamespace(
                        cases=index % 3, refunds=index % 4, kept=index % 5, breached=1
                    ),
                ),
                # Ozon's returns and cancellations (handlers/seller/ozon.py).
                "c": SimpleNamespace(
                    posting_number="12345678-0001-1",
                    initiator="buyer",
                    reason="Changed <my> mind" if index % 2 else "",
                    auto_approve_at=NOW + timedelta(days=2) if index % 2 else None,
                ),
                "approve": bool(index % 2),
                "rejected": index % 4 == 0,
                "ret": SimpleNamespace(
                    return_number="R-77 <x>" if index % 2 else None,
                    product=SimpleNamespace(name="Kettle <A&B>" if index % 2 else None, sku=123),
                    reason="Брак" if index % 2 else None,
                    comment="The <lid> & handle" if index % 2 else None,
                    photos=["https://cdn.ozon.ru/1.jpg"] if index % 2 else [],
                    actions=[1] if index % 2 else [],
                ),
                "row": SimpleNamespace(
                    ozon_id=42,
                    ozon_state="WaitingDecision",
                    ozon_state_name="Ожидает решения" if index % 2 else "",
                ),
                "returns": [
                    SimpleNamespace(
                        posting_number="12345678-0002-1",
                        scheme="fbs",
                        data={"name": "Kettle", "reason": "Брак"} if index % 3 else {},
                        ozon_state="ReturnedToOzon",
                        ozon_state_name="",
                    )
                ]
                if index % 2
                else [],
                "shipping_payer": ["seller", "buyer"][index % 2],
                "refund": money,
                "percent": [0, 5][index % 2],
                "what": [
                    "sticker",
                    "photo",
                    "photo_too_large",
                    "photo_unavailable",
                    "voice",
                    "file_too_large",
                    "photo_not_stored",
                ][index % 7],
                "megabytes": Decimal("9.5") if index % 2 else None,
                "length": 10_000,
                "max_length": 2_000,
                "code": [
                    "empty",
                    "not_a_number",
                    "negative",
                    "zero",
                    "too_precise",
                    "over_limit",
                    "too_large",
                ][index % 7],
                "requested": money,
                "refundable": Money.of("800", "RUB"),
                "evidence": [Evidence(id=1, file_id="f", file_unique_id="u", created_at=NOW)]
                if index % 2
                else [],
                "photos": ["f"],
                "with_photos": bool(index % 2),
                "earlier": [
                    (),
                    (EarlierRequest(4, NOW, True),),
                    (
                        EarlierRequest(3, NOW, False, money, NOW, Decimal(30)),
                        EarlierRequest(4, NOW, True, money, NOW),
                    ),
                ][index % 3],
                "resumed": bool(index % 2),
                "yours": bool(index % 2),
                "mode": ["change", "refund", "coupon"][index % 3],
                "more": bool(index % 2),
                "coupon": money if index % 2 else None,
                "escalation": list(EscalationReason)[index % len(EscalationReason)],
                "status": [
                    "waiting",
                    "taken",
                    "due_soon",
                    "breached",
                    "offered",
                    "handed_back",
                    "resolved",
                ][index % 7],
                "agent": "Sam <support>",
                "outcome": ["resolved", "with_support", "open", "delivery"][index % 4],
                "settlement": list(ItemSettlement)[index % len(ItemSettlement)],
                "quiet_for": timedelta(hours=1),
                "owed_amount": money if index % 3 == 1 else None,
                "owed_due": NOW + timedelta(days=2) if index % 3 else None,
                "action": ["offer", "refund", "handback", "resolve"][index % 4],
                "text": "Hello <b>there</b> & you",
                "check": ["phone_last4", "postal_code"][index % 2],
                "claimed": bool(index % 2),
                "left": index % 3 + 1,
                "until": NOW + timedelta(hours=1),
                "seller_name": "Lucky <Dragon> & Co",
                "rebound": bool(index % 2),
                "telegram_id": 100002,
                "buyer_id": 100002,
                "buyer_name": ["", "Anna <A&B>"][index % 2],
                "order_count": index % 3,
                "case_count": index % 4,
                "open_count": index % 2,
                "done": SimpleNamespace(cases=index % 3, photos=index % 4, messages=12),
                "promise": Promise(
                    id=5,
                    case_id=12,
                    kind=list(PromiseKind)[index % len(PromiseKind)],
                    owner_role=Role.SELLER,
                    owner_ref="acme",
                    state=PromiseState.OPEN,
                    created_at=NOW,
                    due_at=NOW + timedelta(hours=4),
                    warn_at=NOW + timedelta(hours=3),
                ),
                "history": [
                    CaseEvent(
                        id=n,
                        case_id=12,
                        at=NOW,
                        actor_role=Role.BUYER,
                        actor_id=101,
                        action=action,
                        detail=detail,
                    )
                    for n, (action, detail) in enumerate(
                        [("opened", {}), ("reason_note", {"note": "Found it <cheaper> & closer"})],
                        start=1,
                    )
                ],
                "offers": [offer(remedy, amount)] if index % 2 else [],
                "decisions": [
                    Decision(
                        id=1,
                        offer_id=3,
                        actor_role=Role.SELLER,
                        actor_id=501,
                        action="approve",
                        note="ok <fine>",
                        at=NOW,
                    )
                ]
                if index % 2
                else [],
                "refunds": [refund(1, RefundStatus.APPROVED)] if index % 2 else [],
                "failed": [
                    refund(
                        2,
                        RefundStatus.FAILED,
                        note="Card <closed> & gone",
                        executed_at=NOW,
                        failed_at=NOW,
                    )
                ]
                if index % 2
                else [],
                "entries": [(the_case, NOW + timedelta(hours=1)), (the_case, None)]
                if index % 2
                else [],
                "tracking": "RR123456789CN",
                "now": NOW,
                "in_private": bool(index % 2),
            }
        )
    return variants
