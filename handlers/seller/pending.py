"""/pending: every case that waits for this decider, each with the buttons to act on it."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import cases
from handlers.workflow import cards

router = Router()
MOST = 10


@router.command("pending")
async def pending(ctx: Context, _args: str) -> None:
    if not ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider")
    ctx.act_as_seller(sorted(ctx.actor.seller_ids)[0])
    waiting = await cases.waiting_for_sellers(ctx.tx, ctx.actor.seller_ids, limit=MOST + 1)
    ctx.expect(None)
    ctx.reply("seller/pending", count=len(waiting[:MOST]), more=len(waiting) > MOST)
    for case in waiting[:MOST]:
        card = await cards.current_card(ctx.tx, case)
        if card is not None:
            cards.show(ctx, case, card, only_chat=ctx.event.chat_id)
