"""What a seller's decider sees of a case that waits for them, with the buttons to act on it.

The same card goes out when the case first needs the seller and again when a decider asks for
/pending, so a lost or buried message never blocks a decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.enums import (
    CaseKind,
    CaseState,
    OfferStatus,
    OrderStatus,
    RefundStatus,
    Remedy,
    Role,
    Want,
)
from bot.domain.money import Money
from bot.engine.context import Context, Keyboard, button, column, seller_reader
from bot.services import cases, ledger, offers, promises
from bot.storage.models import Case, Offer, Refund
from bot.storage.transaction import Transaction
from handlers.payloads import AnswerQuestion, Done, Inspect, SellerOffer, StopShipment

SELLER_ACTIONS = ("approve", "change", "refuse")
STOPPED = "shipment_stopped"  # the case event of a seller's "stopped: it won't ship"


@dataclass
class Card:
    template: str
    variables: dict[str, Any]
    buttons: Keyboard = ()
    photos: list[str] = field(default_factory=list)


async def offer_card(
    tx: Transaction, case: Case, offer: Offer, due: datetime, **extra: Any
) -> Card:
    evidence = await cases.evidence_of(tx, case.id)
    # An offer without an amount (a fixed sum the policy lacks for this currency) cannot be
    # approved as it stands: the seller sets the amount or refuses with an alternative.
    approvable = offer.amount is not None or not offer.remedy.moves_money
    actions = [a for a in SELLER_ACTIONS if a != "approve" or approvable]
    if offer.proposed_by_role is Role.BUYER:
        # The buyer's own ask is a reopened case's second round (docs/aftersales.md): the card
        # says so, with what the first round refunded, each time it is sent.
        extra = {"refunds": await ledger.refunds_of_case(tx, case.id), **extra}
    return Card(
        "seller/second_round" if offer.proposed_by_role is Role.BUYER else "seller/new_offer",
        {
            "case": case,
            "order": case.order,
            "offer": offer,
            "due": due,
            "evidence": evidence,
            # A repeat on the same item is never approved by itself: the seller sees why.
            "earlier": await cases.earlier_requests(tx, case),
            **extra,
        },
        [
            [button(f"seller_{a}", SellerOffer(offer_id=offer.id, action=a), offer=offer)]
            for a in actions
        ],
        [e.file_id for e in evidence],
    )


def question_card(case: Case, due: datetime) -> Card:
    return Card(
        "seller/question",
        {"case": case, "order": case.order, "due": due},
        column(button("answer", AnswerQuestion(case_id=case.id))),
    )


def question_added_card(case: Case, added: str, due: datetime | None) -> Card:
    return Card(
        "seller/question_added",
        {"case": case, "order": case.order, "added": added, "due": due},
        column(button("answer", AnswerQuestion(case_id=case.id))),
    )


def return_card(case: Case, due: datetime) -> Card:
    return Card(
        "seller/return_coming",
        {"case": case, "order": case.order, "due": due},
        column(
            button("inspect_full", Inspect(case_id=case.id, verdict="full")),
            button("inspect_deduct", Inspect(case_id=case.id, verdict="deduct")),
        ),
    )


@dataclass(frozen=True)
class Terms:
    """What was agreed, as both sides are told it."""

    amount: Money | None  # money back through the ledger
    remedy: Remedy | None
    due: datetime
    deduction: Money | None = None
    note: str | None = None
    coupon: Money | None = None  # a coupon's value: agreed, but no money moves

    def variables(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def agreed_card(case: Case, terms: Terms, failed: Sequence[Refund] = ()) -> Card:
    """What is owed, with the refunds of the case that failed before and why (the ledger's
    word, docs/offers-and-promises.md#failed-refunds)."""
    return Card(
        "seller/agreed",
        {"case": case, "order": case.order, "failed": failed, **terms.variables()},
        column(button("done", Done(case_id=case.id), remedy=terms.remedy, amount=terms.amount)),
    )


def cancelled_card(case: Case, terms: Terms) -> Card:
    """An order cancelled before shipping: first of all it must not ship; the refund follows
    once the seller says it is stopped (docs/conversations.md)."""
    return Card(
        "seller/order_cancelled",
        {"case": case, "order": case.order, **terms.variables()},
        column(
            button("shipment_stopped", StopShipment(case_id=case.id, action="stopped")),
            button("shipment_shipped", StopShipment(case_id=case.id, action="shipped")),
        ),
    )


async def stop_unconfirmed(tx: Transaction, case: Case) -> bool:
    """Whether the case cancelled an order before shipping and its seller has not yet said the
    shipment is stopped."""
    if case.kind is not CaseKind.CANCEL or case.order.status is not OrderStatus.CANCELLED:
        return False
    return not any(e.action == STOPPED for e in await cases.history_of(tx, case.id))


def refusal_card(case: Case, amount: Money, due: datetime) -> Card:
    """The buyer will refuse the parcel at delivery: the refund is owed once it is back."""
    return Card(
        "seller/refusal_coming",
        {"case": case, "order": case.order, "amount": amount, "due": due},
        column(button("refund_on_return", Done(case_id=case.id), amount=amount)),
    )


async def current_card(tx: Transaction, case: Case) -> Card | None:
    """The card for what the case waits for from the seller now, if anything."""
    open_now = await promises.open_promises(tx, case.id)
    if not open_now:
        return None
    due = open_now[0].due_at
    offer = await offers.current(tx, case.id)
    match case.state:
        case CaseState.AWAITING_SELLER if offer and offer.status is OfferStatus.PENDING_SELLER:
            return await offer_card(tx, case, offer, due)
        case CaseState.AWAITING_SELLER if case.question:
            return question_card(case, due)
        case CaseState.RETURN_IN_TRANSIT:
            return return_card(case, due)
    # What was agreed is owed whatever the conversation is doing now (with support, resolved
    # by support, a later request): the seller's "done" stays one tap away.
    owed = [p for p in open_now if p.kind in promises.OWED]
    if case.state is not CaseState.EXECUTING and not owed:
        return None
    refunds = await ledger.refunds_of_case(tx, case.id)
    amount = ledger.approved_total(refunds)
    if case.want is Want.REFUSE and amount is not None and owed:
        return refusal_card(case, amount, owed[0].due_at)
    remedy = offer.remedy if offer else None
    coupon = offer.amount if offer and remedy is Remedy.COUPON else None
    terms = Terms(amount, remedy, owed[0].due_at if owed else due, coupon=coupon)
    if case.state is CaseState.EXECUTING and await stop_unconfirmed(tx, case):
        return cancelled_card(case, terms)
    # Sent, then failed: not one a cancellation stopped before it went out.
    failed = [r for r in refunds if r.status is RefundStatus.FAILED and r.executed_at]
    return agreed_card(case, terms, failed)


def show(ctx: Context, case: Case, card: Card, *, only_chat: int | None = None) -> None:
    """Send the card to every decider of the case's seller, or to one of them."""
    seller = ctx.seller(case.seller_id)
    chats = [only_chat] if only_chat else [d.telegram_id for d in seller.deciders]
    ctx.send(
        chats,
        seller_reader(seller),
        card.template,
        buttons=card.buttons,
        photos=card.photos,
        case_id=case.id,
        **card.variables,
    )
