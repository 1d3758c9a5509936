"""Support's answer to a buyer's /forget (handlers/buyer/forget.py, docs/privacy.md): confirm,
and the buyer's personal data is erased in this update and the buyer told; or decline, and the
buyer is told that too. Only a support member's tap counts, whatever the button says; a
request is answered once."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.errors import Refusal, Stale
from bot.engine.router import Router
from bot.services import privacy
from bot.storage import audit
from handlers.payloads import Forget

router = Router()


@router.button(Forget)
async def answer(ctx: Context, data: Forget) -> None:
    if not ctx.actor.is_support or ctx.event.system:
        raise Refusal("common/not_allowed", audit="support.not_member")
    ctx.act_as_support()
    if data.action not in ("confirm", "decline"):
        raise Stale()
    last = await privacy.last_request(ctx.tx, data.buyer_id)
    if last is None or last.action != privacy.FORGET_ASKED:
        ctx.answer("support/forget_answered")
        return
    author = ctx.event.author
    agent = next(
        (m.name for m in ctx.shop.support.members if m.telegram_id == author.id and m.name),
        author.name or str(author.id),
    )
    buyer = await privacy.buyer_row(ctx.tx, data.buyer_id)
    if data.action == "confirm":
        done = await privacy.erase(
            ctx.tx, data.buyer_id, ctx.now, by_id=author.id, by=f"support:{agent}"
        )
        ctx.reply("support/forget_done", agent=agent, buyer_id=data.buyer_id, done=done)
    else:
        audit.record(
            ctx.tx,
            ctx.now,
            actor_id=author.id,
            action=privacy.FORGET_DECLINED,
            target=privacy.target(data.buyer_id),
            allowed=True,
            detail={"by": f"support:{agent}"},
        )
        ctx.reply("support/forget_declined", agent=agent, buyer_id=data.buyer_id)
    if buyer is not None:
        ctx.to_buyer(
            buyer, "buyer/forgotten" if data.action == "confirm" else "buyer/forget_declined"
        )
