"""A reshipment or replacement on its way (docs/offers-and-promises.md#reshipments): the case
waits after "Shipped" until the buyer says it arrived, or the seller's policy
(`[aftersales] delivered_after`) lets the sweeper count it as delivered; "It hasn't arrived"
after the expected time (`[aftersales] delivery_expected`) hands the case to support. Either
end resolves the case, and its survey is about the item delivered."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, Role
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.own_events import Delivered
from bot.engine.router import Router
from bot.services import cases, deliveries
from bot.storage.models import Case
from handlers.payloads import Arrived, NotArrived
from handlers.workflow import aftersales, desk
from handlers.workflow.access import case_at

router = Router()
DELIVERED = "delivered"  # the case event that ends the wait


async def _resolve(ctx: Context, case: Case, *, role: Role) -> None:
    cases.move(case, CaseState.RESOLVED, ctx.now)
    aftersales.resolved(ctx, case)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        DELIVERED,
        role=role,
        actor_id=ctx.event.author.id or None,
    )


@router.button(Arrived)
async def arrived(ctx: Context, data: Arrived) -> None:
    case = await case_at(ctx, data.case_id, CaseState.AWAITING_DELIVERY)
    deliveries.arrived(case)
    await _resolve(ctx, case, role=Role.BUYER)
    ctx.reply(
        "buyer/delivered", case=case, case_id=case.id, buttons=aftersales.still_not_right(case)
    )


@router.button(NotArrived)
async def not_arrived(ctx: Context, data: NotArrived) -> None:
    case = await case_at(ctx, data.case_id, CaseState.AWAITING_DELIVERY)
    policy = ctx.seller(case.seller_id).policy.aftersales
    expected = deliveries.expected_at(case, policy.delivered_after, policy.delivery_expected)
    if expected is not None and ctx.now < expected:
        ctx.reply("buyer/delivery_not_yet", case=case, due=expected)
        return
    deliveries.arrived(case)  # not arrived, but no longer waited for: support has it now
    await desk.escalate(ctx, case, EscalationReason.NOT_DELIVERED, role=Role.BUYER)


@router.button(Delivered)
async def delivered(ctx: Context, data: Delivered) -> None:
    """The sweeper: the policy's delay passed with no word from the buyer."""
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="sweeper.forged")
    case = await cases.lock_case(ctx.tx, data.case_id)
    if case is None or not deliveries.arrived(case):
        return  # the buyer said so, or support has it, since the sweep found it
    await _resolve(ctx, case, role=Role.POLICY)
    ctx.to_buyer(
        case.buyer,
        "buyer/delivery_assumed",
        case=case,
        case_id=case.id,
        buttons=aftersales.still_not_right(case),
    )
