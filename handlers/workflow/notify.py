"""Messages one party's action sends to another: an offer to the buyer, a decision owed by the
seller. Buyer, seller and support handlers share them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.enums import CaseState, OfferStatus, PromiseKind, Remedy, Role
from bot.domain.money import Money
from bot.engine.context import Context, button
from bot.services import cases, offers
from bot.storage.models import Case, Offer
from handlers.payloads import BuyerOffer
from handlers.workflow import cards, promising


def offer_to_buyer(
    ctx: Context, case: Case, offer: Offer, *, template: str = "buyer/offer"
) -> None:
    """Show an approved offer to the buyer, with Accept and Decline."""
    assert offer.status is OfferStatus.OFFERED
    ctx.to_buyer(
        case.buyer,
        template,
        case=case,
        offer=offer,
        order=case.order,
        case_id=case.id,
        buttons=[
            [
                button("accept", BuyerOffer(offer_id=offer.id, action="accept")),
                button("decline", BuyerOffer(offer_id=offer.id, action="decline")),
            ]
        ],
    )


async def ask_seller(
    ctx: Context, case: Case, offer: Offer, *, template: str | None = None, **extra: object
) -> datetime:
    """Put a pending offer before the seller's deciders and promise the buyer an answer by the
    time returned."""
    assert offer.status is OfferStatus.PENDING_SELLER
    due = await promising.promise(ctx, case, PromiseKind.SELLER_DECISION)
    card = await cards.offer_card(ctx.tx, case, offer, due, **extra)
    card.template = template or card.template
    cards.show(ctx, case, card)
    return due


async def own_offer(
    ctx: Context, case: Case, remedy: Remedy, amount: Money | None, *, role: Role, action: str
) -> Offer:
    """A person's offer (a seller's counter, support's proposal) in place of the standard one:
    recorded, with its difference from the standard, and put before the buyer."""
    new = await offers.create(
        ctx.tx,
        case,
        remedy=remedy,
        amount=amount,
        status=OfferStatus.OFFERED,
        role=role,
        actor_id=ctx.event.author.id,
        now=ctx.now,
    )
    cases.move(case, CaseState.AWAITING_BUYER, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        action,
        role=role,
        actor_id=ctx.event.author.id,
        offer=new.id,
        remedy=remedy,
        amount=amount or "",
    )
    offer_to_buyer(ctx, case, new)
    return new
