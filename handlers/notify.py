"""Messages one party's action sends to another: an offer to the buyer, a decision owed by the
seller, an escalation. Buyer and seller handlers share them."""

from __future__ import annotations

from bot.domain.enums import (
    CaseState,
    CommitmentKind,
    CommitmentState,
    EscalationReason,
    OfferStatus,
    Role,
)
from bot.engine.context import Context, button
from bot.services import cases, commitments
from bot.storage.models import Case, Commitment, Offer
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
    policy = ctx.seller(case.seller_id).policy
    promise = await commitments.promise(
        ctx.session, case, CommitmentKind.SELLER_DECISION, policy=policy, now=ctx.now
    )
    card = await cards.offer_card(ctx.session, case, offer, promise.due_at, **extra)
    card.template = template
    cards.show(ctx, case, card)
    return promise


async def escalate(ctx: Context, case: Case, reason: EscalationReason, *, role: Role) -> None:
    """Hand the case to support: the bot stops deciding, the buyer is told who answers by when."""
    policy = ctx.seller(case.seller_id).policy
    await commitments.close(ctx.session, case.id, ctx.now, state=CommitmentState.CLOSED)
    case.escalation_reason = reason
    await cases.record(
        ctx.session,
        case,
        ctx.now,
        "escalated",
        role=role,
        actor_id=ctx.event.sender.id,
        state=CaseState.ESCALATED,
        reason=reason.value,
    )
    promise = await commitments.promise(
        ctx.session,
        case,
        CommitmentKind.SUPPORT_REPLY,
        policy=policy,
        now=ctx.now,
        owner_role=Role.SUPPORT,
    )
    ctx.to_buyer(case.buyer, "buyer/escalated", case=case, due=promise.due_at, case_id=case.id)
    ctx.to_deciders(
        case.seller_id, "seller/escalated", case=case, order=case.order, case_id=case.id
    )
