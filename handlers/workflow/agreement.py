"""What happens once both sides agree: the ledger entry, the seller's task and the promise of
when it is done, and word to both sides; and what stays owed while the conversation moves on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.enums import CaseState, OfferStatus, PromiseKind, Reason, Remedy, Role
from bot.domain.money import Money
from bot.engine.context import Context
from bot.engine.errors import Refusal, Stale
from bot.services import cases, ledger, offers, promises
from bot.storage.models import Case, Offer
from handlers.workflow import cards, promising


async def accept(ctx: Context, case: Case, offer: Offer) -> None:
    """The buyer accepted `offer`."""
    buyer = case.buyer
    assert buyer is not None  # only a buyer in Telegram accepts an offer
    won = await offers.decide(
        ctx.tx,
        offer,
        expected=OfferStatus.OFFERED,
        status=OfferStatus.ACCEPTED,
        action="accept",
        role=Role.BUYER,
        actor_id=buyer.telegram_id,
        actor_name=buyer.name,
        now=ctx.now,
    )
    if not won:
        raise Stale()
    amount = offer.amount if offer.remedy.moves_money else None
    await agree(ctx, case, amount=amount, key=f"offer:{offer.id}", offer=offer, role=Role.BUYER)


async def agree(
    ctx: Context,
    case: Case,
    *,
    amount: Money | None,
    key: str,
    role: Role,
    offer: Offer | None = None,
    note: str | None = None,
    deduction: Money | None = None,
    card: Callable[[Case, cards.Terms], cards.Card] = cards.agreed_card,
    tell_buyer: bool = True,
) -> cards.Terms:
    """Record the agreed remedy: a refund in the ledger, or a shipment or coupon owed; the seller
    gets `card` for it, and the buyer "Agreed" unless the caller words it (`tell_buyer`).

    Any case can reach an agreement, however little of it the buyer described before a person
    took it over (docs/conversations-cases.md): a refund on a case with no reason is filed
    under "other"."""
    if amount is not None:
        try:
            await ledger.approve_refund(
                ctx.tx,
                order_id=case.order_id,
                amount=amount,
                reason=case.reason or Reason.OTHER,
                key=key,
                now=ctx.now,
                case_id=case.id,
                offer_id=offer.id if offer else None,
                note=note,
            )
        except ledger.OverRefundError as error:
            raise Refusal(
                "common/over_refund",
                audit="ledger.over_refund",
                requested=error.requested,
                refundable=error.refundable,
            ) from error
        kind = PromiseKind.REFUND_EXECUTION
    else:
        kind = PromiseKind.FULFILMENT
    cases.move(case, CaseState.EXECUTING, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "agreed",
        role=role,
        actor_id=ctx.event.author.id,
        amount=amount or "",
        offer=offer.id if offer else "",
    )
    due = await promising.promise(ctx, case, kind)
    remedy = offer.remedy if offer else None
    terms = cards.Terms(
        amount=amount,
        remedy=remedy,
        due=due,
        deduction=deduction,
        note=note,
        # A coupon moves no money through the ledger, but its value is still what was agreed.
        coupon=offer.amount if offer and offer.remedy is Remedy.COUPON else None,
    )
    if tell_buyer:
        ctx.to_buyer(case.buyer, "buyer/agreed", case=case, case_id=case.id, **terms.variables())
    cards.show(ctx, case, card(case, terms))
    return terms


@dataclass(frozen=True)
class Owed:
    """What the seller still owes on a case (docs/offers-and-promises.md), as the buyer is told
    it."""

    amount: Money | None  # approved refunds not sent yet; None when only goods are owed
    due: datetime  # when the last promise of it falls due


def owed_variables(owed: Owed | None) -> dict[str, Any]:
    """What templates that may mention it are given of what is still owed."""
    return {"owed_amount": owed.amount if owed else None, "owed_due": owed.due if owed else None}


async def still_owed(ctx: Context, case: Case) -> Owed | None:
    """What was agreed and not yet done on the case, if anything."""
    owed_now = await promises.owed(ctx.tx, case.id)
    if not owed_now:
        return None
    amount = ledger.approved_total(await ledger.refunds_of_case(ctx.tx, case.id))
    return Owed(amount, max(p.due_at for p in owed_now))


def end_state(owed: Owed | None, otherwise: CaseState) -> CaseState:
    """Where a case whose conversation ends goes: it waits for the seller while anything agreed
    is still owed (the seller's "done" then resolves it), else `otherwise`."""
    return CaseState.EXECUTING if owed is not None else otherwise
