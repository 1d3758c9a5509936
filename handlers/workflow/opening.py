"""Opening a case on one of the buyer's orders: a problem, a return or a cancellation, each
only when the order is in a state that allows it (else the buyer is told why, and what they
can do instead); then the wizard asks its first question."""

from __future__ import annotations

from bot.domain.enums import CaseKind, CaseState, OrderStatus, Role
from bot.domain.offers import return_window
from bot.engine.context import Context, button, column
from bot.services import cases
from bot.storage.models import Order
from handlers.payloads import PickOrder
from handlers.workflow.wizard import advance

BUYER = Role.BUYER


async def start_problem(ctx: Context, order: Order) -> None:
    if not order.status.received:
        ctx.expect(None)
        ctx.reply(
            "buyer/problem_not_delivered",
            order=order,
            buttons=column(button("menu_cancel", PickOrder(flow="cancel", order_id=order.id)))
            if order.status is not OrderStatus.CANCELLED
            else (),
        )
        return
    case = await cases.open_case(ctx.session, order, CaseKind.PROBLEM, CaseState.REASON, ctx.now)
    await cases.record(
        ctx.session, case, ctx.now, "opened", role=BUYER, actor_id=ctx.event.sender.id
    )
    await advance(ctx, case)


async def start_cancel(ctx: Context, order: Order) -> None:
    if order.status is OrderStatus.CANCELLED:
        ctx.expect(None)
        ctx.reply("buyer/cancel_already", order=order)
        return
    if order.status.received:
        ctx.expect(None)
        ctx.reply(
            "buyer/cancel_delivered",
            order=order,
            buttons=column(button("menu_return", PickOrder(flow="return", order_id=order.id))),
        )
        return
    case = await cases.open_case(ctx.session, order, CaseKind.CANCEL, CaseState.REASON, ctx.now)
    await cases.record(
        ctx.session, case, ctx.now, "opened", role=BUYER, actor_id=ctx.event.sender.id
    )
    await advance(ctx, case)


async def start_return(ctx: Context, order: Order) -> None:
    policy = ctx.seller(order.seller_id).policy
    if not order.status.received or order.delivered_at is None:
        ctx.expect(None)
        ctx.reply("buyer/return_not_delivered", order=order)
        return
    window = return_window(policy, order.delivered_at, ctx.now)
    if not window.open:
        ctx.expect(None)
        ctx.reply(
            "buyer/return_window_closed",
            order=order,
            closes_at=window.closes_at,
            buttons=column(button("menu_problem", PickOrder(flow="problem", order_id=order.id))),
        )
        return
    case = await cases.open_case(ctx.session, order, CaseKind.RETURN, CaseState.REASON, ctx.now)
    await cases.record(
        ctx.session, case, ctx.now, "opened", role=BUYER, actor_id=ctx.event.sender.id
    )
    await advance(ctx, case)
