"""Picking one of the buyer's own orders, by button or by typing its number."""

from __future__ import annotations

from bot.domain.enums import CaseKind, CaseState, EscalationReason, Role
from bot.engine.context import Context, button
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import audit, cases, orders
from bot.storage.models import Order
from handlers.buyer import steps
from handlers.payloads import PickOrder, Withdraw
from handlers.support import desk

router = Router()
FLOWS = ("problem", "return", "cancel", "person")
# Open cases whose next step is the buyer's: shown again when they start another request.
WAITING_FOR_THE_BUYER = (CaseState.AWAITING_BUYER, CaseState.RETURN_SHIPPING)


async def ask_order(ctx: Context, *, flow: str) -> None:
    mine = await orders.buyer_orders(ctx.session, ctx.actor.buyer.telegram_id)
    if not mine:
        ctx.expect(None)
        ctx.reply("buyer/no_orders")
        return
    ctx.expect("order_number", flow=flow)
    ctx.reply(
        "buyer/pick_order",
        flow=flow,
        buttons=[[button("order", PickOrder(flow=flow, order_id=o.id), order=o)] for o in mine],
    )


@router.reprompt("order_number")
async def _again(ctx: Context) -> None:
    await ask_order(ctx, flow=ctx.conversation.data.get("flow", "problem"))


@router.text("order_number")
async def typed_number(ctx: Context) -> None:
    found = await orders.orders_by_number(ctx.session, ctx.event.text or "")
    mine = [o for o in found if o.buyer_id == ctx.actor.buyer.telegram_id]
    if not mine:
        if found:
            # Someone else's order: the same answer as for an unknown number, so the reply
            # tells nothing about other buyers; the attempt is audited.
            audit.record(
                ctx.session,
                ctx.now,
                actor_id=ctx.event.sender.id,
                action="buyer.foreign_order",
                target=(ctx.event.text or "")[:64],
            )
        ctx.reply("buyer/order_not_found", number=(ctx.event.text or "").strip())
        return
    await start_flow(ctx, mine[0], ctx.conversation.data.get("flow", "problem"))


@router.button(PickOrder)
async def picked(ctx: Context, data: PickOrder) -> None:
    await open_order(ctx, data.order_id, flow=data.flow)


async def open_order(ctx: Context, order_id: int, *, flow: str) -> None:
    order = await orders.buyer_order(ctx.session, ctx.actor.buyer.telegram_id, order_id)
    if order is None:
        # The internal id (a deep link or a forged button carries it) goes to the audit row
        # only: it means nothing to a buyer, and another buyer's order number would tell them
        # that order exists.
        raise Refusal(
            "buyer/order_not_found", audit="buyer.foreign_order", number=None, order_id=order_id
        )
    await start_flow(ctx, order, flow if flow in FLOWS else "problem")


async def start_flow(ctx: Context, order: Order, flow: str) -> None:
    existing = await cases.open_case_of(ctx.session, order.id)
    if flow == "person" and existing is not None and existing.state is not steps.ESCALATED:
        ctx.expect(steps.CASE, case_id=existing.id)
        await desk.escalate(ctx, existing, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        return
    if existing is not None:
        if existing.state in cases.DRAFT_STATES:
            cases.move(existing, steps.CLOSED, ctx.now)
            await cases.record(
                ctx.session,
                existing,
                ctx.now,
                "replaced_by_new_request",
                role=steps.BUYER,
                actor_id=ctx.event.sender.id,
            )
        else:
            # One open case an order: the buyer is taken to it rather than given a second,
            # which could be paid again for the same thing (docs/conversations-cases.md).
            yours = existing.state in WAITING_FOR_THE_BUYER
            ctx.expect(None)
            ctx.reply(
                "buyer/case_in_progress",
                case=existing,
                order=order,
                yours=yours,
                buttons=[[button("withdraw", Withdraw(case_id=existing.id))]],
            )
            if yours:
                await steps.resume(ctx, existing)  # its question again, with its buttons
            return
    match flow:
        case "return":
            await steps.start_return(ctx, order)
        case "cancel":
            await steps.start_cancel(ctx, order)
        case "person":
            case = await cases.open_case(
                ctx.session, order, CaseKind.PROBLEM, CaseState.REASON, ctx.now
            )
            await cases.record(
                ctx.session, case, ctx.now, "opened", role=Role.BUYER, actor_id=ctx.event.sender.id
            )
            ctx.expect(steps.CASE, case_id=case.id)
            await desk.escalate(ctx, case, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        case _:
            await steps.start_problem(ctx, order)
