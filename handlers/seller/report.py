"""/report: the seller's numbers for last month (/report current: the month so far) in a
decider's chat; in the support chat, every seller's together (docs/reports.md)."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import report_send

router = Router()


@router.command("report")
async def report(ctx: Context, args: str) -> None:
    support = ctx.shop.support
    in_desk = ctx.actor.is_support and (
        ctx.event.chat_id == support.chat_id or (support.chat_id is None and ctx.event.is_private)
    )
    if ctx.actor.seller_ids and ctx.event.is_private and not in_desk:
        seller: str | None = ctx.act_as_seller(sorted(ctx.actor.seller_ids)[0]).id
    elif in_desk:
        ctx.act_as_support()
        seller = None
    else:
        raise Refusal("common/not_allowed", audit="report.not_allowed")
    month = report_send.wanted_month(ctx.now, ctx.reader, args)
    numbers, uploads = await report_send.report_files(
        ctx.tx, ctx.renderer, ctx.reader, month, seller
    )
    ctx.expect(None)
    ctx.reply("seller/report", report=numbers, uploads=uploads)
