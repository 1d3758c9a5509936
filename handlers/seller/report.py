"""/report: the seller's numbers for last month (/report current: the month so far) in a
decider's chat; in the support chat, every seller's together. And the same, unasked, on the
first working day of a month, when the sweeper says a report is owed (docs/reports.md)."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.own_events import MonthlyReport
from bot.engine.router import Router
from bot.services import report_send
from bot.services.report import Month, month_report

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


@router.button(MonthlyReport)
async def monthly(ctx: Context, data: MonthlyReport) -> None:
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="sweeper.forged")
    month = Month.parse(data.month)
    if not await report_send.mark_sent(ctx.tx, data.seller, month, ctx.now):
        return  # another sweeper sent it, or this one before a restart
    every = data.seller == report_send.EVERY_SELLER
    seller = None if every else data.seller
    if every:
        ctx.act_as_support()
    else:
        ctx.act_as_seller(data.seller)
    reader = ctx.reader
    numbers = await month_report(ctx.tx, month, seller=seller)
    if not numbers.totals.cases and not numbers.totals.refunds:
        return  # a month without a case says nothing worth a message
    uploads = report_send.files_of(numbers, ctx.renderer, reader)
    if seller is not None:
        ctx.to_deciders(seller, "seller/report", report=numbers, uploads=uploads)
        return
    support = ctx.shop.support
    desk = [support.chat_id] if support.chat_id else [m.telegram_id for m in support.members]
    ctx.send(desk, reader, "seller/report", report=numbers, uploads=uploads)
