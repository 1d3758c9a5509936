"""Messages one party's action sends to another: an offer to the buyer, a decision owed by the
seller, an escalation. Buyer and seller handlers share them."""

from __future__ import annotations

from bot.domain.enums import (
    CommitmentKind,
    OfferStatus,
)
from bot.engine.context import Context, button
from bot.storage.models import Case, Commitment, Offer
from handlers import promises
from handlers.payloads import BuyerOffer
from handlers.seller import cards


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
    ctx: Context, case: Case, offer: Offer, *, template: str = "seller/new_offer", **extra: object
) -> Commitment:
    """Put a pending offer before the seller's deciders and promise the buyer an answer."""
    assert offer.status is OfferStatus.PENDING_SELLER
    promise = await promises.promise(ctx, case, CommitmentKind.SELLER_DECISION)
    card = await cards.offer_card(ctx.session, case, offer, promise.due_at, **extra)
    card.template = template
    cards.show(ctx, case, card)
    return promise
