"""The buyer answers an offer: accept it, or decline it once with a reason."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, OfferStatus, Role
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, offers
from bot.storage.models import Case, Offer
from handlers.payloads import BuyerOffer
from handlers.workflow import agreement, desk, notify
from handlers.workflow.access import owned_case
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.wizard import policy_of

router = Router()
MAX_REASON = 1000


async def _offered(ctx: Context, offer_id: int) -> tuple[Case, Offer]:
    # The case before the offer: the order every update locks in (docs/locking.md).
    case = await cases.lock_case_of_offer(ctx.tx, offer_id)
    if case is None:
        raise Stale()
    case = await owned_case(ctx, case.id)
    offer = await offers.lock(ctx.tx, offer_id)
    if offer is None:
        raise Stale()
    if offer.status is not OfferStatus.OFFERED or case.state is not CaseState.AWAITING_BUYER:
        raise Stale()
    return case, offer


@router.button(BuyerOffer)
async def answer(ctx: Context, data: BuyerOffer) -> None:
    case, offer = await _offered(ctx, data.offer_id)
    match data.action:
        case "accept":
            await agreement.accept(ctx, case, offer)
        case "decline":
            ctx.expect(Awaiting.CASE_DECLINE_REASON, case_id=case.id, offer_id=offer.id)
            ctx.reply("buyer/ask_decline_reason", case=case, offer=offer)
        case _:
            raise Stale()


@router.text(Awaiting.CASE_DECLINE_REASON)
async def decline_reason(ctx: Context) -> None:
    case, offer = await _offered(ctx, ctx.conversation.offer_id or 0)
    why = (ctx.event.text or "").strip()
    if len(why) > MAX_REASON:
        ctx.reply("common/too_long", length=len(why), max_length=MAX_REASON)
        return
    buyer = ctx.actor.buyer
    await offers.decide(
        ctx.tx,
        offer,
        expected=OfferStatus.OFFERED,
        status=OfferStatus.DECLINED,
        action="decline",
        role=Role.BUYER,
        actor_id=buyer.telegram_id,
        actor_name=buyer.name,
        now=ctx.now,
        note=why,
    )
    case.buyer_declines += 1
    ctx.expect(Awaiting.CASE, case_id=case.id)
    if case.buyer_declines >= policy_of(ctx, case).escalation.max_buyer_declines:
        await desk.escalate(ctx, case, EscalationReason.FINAL_OFFER_REFUSED, role=Role.BUYER)
        return
    # The seller gets one more round, starting from the offer the buyer declined.
    again = await offers.create(
        ctx.tx,
        case,
        remedy=offer.remedy,
        amount=offer.amount,
        status=OfferStatus.PENDING_SELLER,
        role=offer.proposed_by_role,
        actor_id=offer.proposed_by_id,
        now=ctx.now,
    )
    cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "declined",
        role=Role.BUYER,
        actor_id=buyer.telegram_id,
        why=why,
    )
    due = await notify.ask_seller(
        ctx, case, again, template="seller/declined", why=why, declined=offer
    )
    ctx.reply("buyer/decline_sent", case=case, due=due)
