"""Picking one of the buyer's own orders, by button or by typing its number."""

from __future__ import annotations

from bot.engine.context import Context, button
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import orders
from handlers.payloads import PickOrder
from handlers.workflow import claiming, opening
from handlers.workflow.awaiting import Awaiting

router = Router()
FLOWS = ("problem", "return", "cancel", "person")


async def ask_order(ctx: Context, *, flow: str) -> None:
    mine = await orders.buyer_orders(ctx.tx, ctx.actor.buyer.telegram_id)
    if not mine:
        ctx.expect(None)
        ctx.reply("buyer/no_orders")
        return
    ctx.expect(Awaiting.ORDER_NUMBER, flow=flow)
    ctx.reply(
        "buyer/pick_order",
        flow=flow,
        buttons=[[button("order", PickOrder(flow=flow, order_id=o.id), order=o)] for o in mine],
    )


@router.reprompt(Awaiting.ORDER_NUMBER)
async def _again(ctx: Context) -> None:
    await ask_order(ctx, flow=ctx.conversation.data.get("flow", "problem"))


@router.text(Awaiting.ORDER_NUMBER)
async def typed_number(ctx: Context) -> None:
    flow = ctx.conversation.data.get("flow", "problem")
    await claiming.order_typed(ctx, ctx.event.text or "", flow=flow)


@router.button(PickOrder)
async def picked(ctx: Context, data: PickOrder) -> None:
    await open_order(ctx, data.order_id, flow=data.flow)


async def open_order(ctx: Context, order_id: int, *, flow: str) -> None:
    order = await orders.buyer_order(ctx.tx, ctx.actor.buyer.telegram_id, order_id)
    if order is None:
        # The internal id (a deep link or a forged button carries it) goes to the audit row
        # only: it means nothing to a buyer, and another buyer's order number would tell them
        # that order exists.
        raise Refusal(
            "buyer/order_not_found", audit="buyer.foreign_order", number=None, order_id=order_id
        )
    await opening.start_flow(ctx, order, flow if flow in FLOWS else "problem")
