"""Picking one of the buyer's own orders, by button or by typing its number."""

from __future__ import annotations

from bot.domain.enums import Reason
from bot.engine.context import Context, button
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import orders
from handlers.payloads import PickOrder
from handlers.workflow import claiming, opening
from handlers.workflow.awaiting import Awaiting

router = Router()
FLOWS = ("problem", "return", "cancel", "person")


async def ask_order(ctx: Context, *, flow: str, reason: Reason | None = None) -> None:
    """Which order? A reason the buyer already typed waits with the question, for the flow
    that follows."""
    mine = await orders.buyer_orders(ctx.tx, ctx.actor.buyer.telegram_id)
    if not mine:
        ctx.expect(None)
        ctx.reply("buyer/no_orders")
        return
    ctx.expect(Awaiting.ORDER_NUMBER, flow=flow, reason=reason.value if reason else None)
    ctx.reply(
        "buyer/pick_order",
        flow=flow,
        buttons=[[button("order", PickOrder(flow=flow, order_id=o.id), order=o)] for o in mine],
    )


@router.reprompt(Awaiting.ORDER_NUMBER)
async def _again(ctx: Context) -> None:
    await ask_order(ctx, flow=_flow(ctx), reason=_typed_reason(ctx))


@router.text(Awaiting.ORDER_NUMBER)
async def typed_number(ctx: Context) -> None:
    # Imported here: the words' handler asks for an order with this module's `ask_order`.
    from handlers.buyer.understood import instead_of_a_number

    if await instead_of_a_number(ctx):
        return
    await claiming.order_typed(
        ctx, ctx.event.text or "", flow=_flow(ctx), reason=_typed_reason(ctx)
    )


@router.button(PickOrder)
async def picked(ctx: Context, data: PickOrder) -> None:
    # The reason waits with the question this button answers, not with any older button.
    asked = ctx.conversation.awaiting == Awaiting.ORDER_NUMBER and _flow(ctx) == data.flow
    await open_order(
        ctx, data.order_id, flow=data.flow, reason=_typed_reason(ctx) if asked else None
    )


def _flow(ctx: Context) -> str:
    return str(ctx.conversation.data.get("flow", "problem"))


def _typed_reason(ctx: Context) -> Reason | None:
    value = ctx.conversation.data.get("reason")
    return (
        Reason(value) if isinstance(value, str) and value in Reason.__members__.values() else None
    )


async def open_order(
    ctx: Context, order_id: int, *, flow: str, reason: Reason | None = None
) -> None:
    order = await orders.buyer_order(ctx.tx, ctx.actor.buyer.telegram_id, order_id)
    if order is None:
        # The internal id (a deep link or a forged button carries it) goes to the audit row
        # only: it means nothing to a buyer, and another buyer's order number would tell them
        # that order exists.
        raise Refusal(
            "buyer/order_not_found", audit="buyer.foreign_order", number=None, order_id=order_id
        )
    await opening.start_flow(ctx, order, flow if flow in FLOWS else "problem", reason)
