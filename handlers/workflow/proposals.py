"""Proposing the policy's standard offer: to the buyer, to the seller first, or to support
first when the amount or the buyer's return history calls for a person."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, OfferStatus, Role
from bot.domain.offers import StandardOffer, over_escalation_threshold
from bot.engine.context import Context
from bot.services import cases, history, offers
from bot.storage.models import Case
from handlers.workflow import desk, notify
from handlers.workflow.awaiting import Awaiting


async def propose(ctx: Context, case: Case, standard: StandardOffer) -> None:
    """The policy's offer: straight to the buyer when within the auto-approval limit, else to
    the seller, with a promise to the buyer of when they will hear back. An amount over the
    escalation threshold, or a buyer with an unusual return history, goes to support instead."""
    flag = await _support_first(ctx, case, standard)
    auto = standard.auto_approved and flag is None
    offer = await offers.create(
        ctx.tx,
        case,
        remedy=standard.remedy,
        amount=standard.amount,
        status=OfferStatus.OFFERED if auto else OfferStatus.PENDING_SELLER,
        role=Role.POLICY,
        actor_id=None,
        now=ctx.now,
        standard=standard,
    )
    ctx.expect(Awaiting.CASE, case_id=case.id)
    if auto:
        cases.move(case, CaseState.AWAITING_BUYER, ctx.now)
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "offer_auto_approved",
            role=Role.POLICY,
            actor_id=None,
            offer=offer.id,
        )
        notify.offer_to_buyer(ctx, case, offer)
        return
    cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "offer_to_seller",
        role=Role.POLICY,
        actor_id=None,
        offer=offer.id,
    )
    if flag is not None:
        await desk.escalate(ctx, case, flag, role=Role.POLICY)
        return
    due = await notify.ask_seller(ctx, case, offer)
    ctx.reply("buyer/waiting_for_seller", case=case, offer=offer, due=due)


async def _support_first(
    ctx: Context, case: Case, standard: StandardOffer
) -> EscalationReason | None:
    policy = ctx.seller(case.seller_id).policy
    if standard.amount is not None and over_escalation_threshold(policy, standard.amount):
        return EscalationReason.OVER_THRESHOLD
    rule = policy.escalation.return_history
    if rule is not None:
        past = await history.of_buyer(ctx.tx, case, period=rule.period, now=ctx.now)
        if rule.flags(past.cases, past.refunded):
            return EscalationReason.RETURN_HISTORY
    return None
