"""An order cancelled before shipping: the seller says it is stopped (the refund then follows as
agreed), or that it had already shipped (the refund is withdrawn and the buyer gets the choices
for an order on its way) (docs/conversations.md)."""

from __future__ import annotations

from bot.domain.enums import CaseState, OrderStatus, PromiseKind, PromiseState, RefundStatus, Role
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, ledger, promises
from bot.storage.models import Case
from handlers.payloads import StopShipment
from handlers.workflow import cards
from handlers.workflow.access import decider_case
from handlers.workflow.wizard import cancel_choices

router = Router()


@router.button(StopShipment)
async def stop_shipment(ctx: Context, data: StopShipment) -> None:
    case = await decider_case(ctx, data.case_id)
    if case.state is not CaseState.EXECUTING or not await cards.stop_unconfirmed(ctx.tx, case):
        raise Stale()
    match data.action:
        case "stopped":
            await cases.record(
                ctx.tx,
                case,
                ctx.now,
                cards.STOPPED,
                role=Role.SELLER,
                actor_id=ctx.event.author.id,
            )
            ctx.reply("seller/shipment_stopped", case=case, order=case.order)
            card = await cards.current_card(ctx.tx, case)
            if card is not None:
                cards.show(ctx, case, card)
        case "shipped":
            await _shipped_after_all(ctx, case)
        case _:
            raise Stale()


async def _shipped_after_all(ctx: Context, case: Case) -> None:
    """The cancellation came too late: nothing is refunded for a parcel on its way, and the
    buyer chooses again as for any order on its way."""
    refunds = await ledger.refunds_of_case(ctx.tx, case.id)
    for refund in refunds:
        if refund.status is RefundStatus.APPROVED:  # none was sent before the stop was asked
            await ledger.mark_failed(ctx.tx, refund, ctx.now, "the order had already shipped")
    await promises.close(
        ctx.tx,
        case.id,
        ctx.now,
        kinds=[PromiseKind.REFUND_EXECUTION],
        state=PromiseState.CLOSED,
    )
    order = case.order
    order.status, order.cancelled_at = OrderStatus.SHIPPED, None
    cases.move(case, CaseState.CANCEL_CONFIRM, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "already_shipped",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
    )
    keyboard, variables = cancel_choices(ctx, case)
    ctx.to_buyer(
        case.buyer,
        "buyer/cancel_shipped_after_all",
        buttons=keyboard,
        case=case,
        order=order,
        case_id=case.id,
        **variables,
    )
    ctx.reply("seller/shipped_recorded", case=case, order=order)
