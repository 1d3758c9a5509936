"""The answer to the check asked of a buyer claiming an order by its number (docs/claiming.md)."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import claims
from handlers.workflow import claiming
from handlers.workflow.awaiting import Awaiting

router = Router()


@router.text(Awaiting.CLAIM_CHECK)
async def answered(ctx: Context) -> None:
    await claiming.check_answered(ctx)


@router.reprompt(Awaiting.CLAIM_CHECK)
async def _again(ctx: Context) -> None:
    order = await claims.order(ctx.tx, int(ctx.conversation.data.get("order_id", 0)))
    if order is None:
        ctx.expect(None)
        return
    claiming.ask_check(ctx, order)
