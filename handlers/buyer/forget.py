"""/forget: a buyer asks for their personal data to be erased (docs/privacy.md). Support
confirms or declines on a card (handlers/support/forget.py); the buyer is told either way."""

from __future__ import annotations

from bot.engine.context import Context, button
from bot.engine.router import Router
from bot.services import privacy
from bot.storage import audit
from handlers.payloads import Forget

router = Router()


@router.command("forget")
async def forget(ctx: Context, _args: str) -> None:
    buyer_id = ctx.actor.buyer.telegram_id
    last = await privacy.last_request(ctx.tx, buyer_id)
    if last is not None and last.action == privacy.FORGET_ASKED:
        ctx.reply("buyer/forget_pending")
        return
    orders, cases, still_open = await privacy.summary(ctx.tx, buyer_id)
    audit.record(
        ctx.tx,
        ctx.now,
        actor_id=buyer_id,
        action=privacy.FORGET_ASKED,
        target=privacy.target(buyer_id),
        allowed=True,
    )
    ctx.reply("buyer/forget_asked")
    support = ctx.shop.support
    desk = (
        [support.chat_id]
        if support.chat_id is not None
        else [member.telegram_id for member in support.members]
    )
    ctx.send(
        desk,
        ctx.support_reader(),
        "support/forget_request",
        buttons=[
            [
                button("forget_confirm", Forget(buyer_id=buyer_id, action="confirm")),
                button("forget_decline", Forget(buyer_id=buyer_id, action="decline")),
            ]
        ],
        buyer_name=ctx.actor.buyer.name,
        buyer_id=buyer_id,
        order_count=orders,
        case_count=cases,
        open_count=still_open,
    )
