"""A month's report as a Telegram message carries it: the summary's figures, the charts as
photos and the CSV as a document (docs/reports.md, "In Telegram"); and which monthly reports
the sweeper owes (docs/reports.md, "Every month")."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config.settings import LinkSettings, read
from bot.config.shop import ShopConfig
from bot.domain.calendar import Calendar
from bot.engine.events import Upload
from bot.rendering import Reader, Renderer
from bot.rendering.fonts import find_font
from bot.services.report import Month, Report, month_report
from bot.services.report_files import Words, write_charts, write_csv
from bot.storage.models import ReportSend
from bot.storage.transaction import Transaction
from bot.storage.upsert import insert_ignore

EVERY_SELLER = "*"  # the recipient key of support's report on all sellers together


@dataclass(frozen=True)
class Owed:
    """A monthly report the sweeper should send: whose (a seller, or EVERY_SELLER for
    support), for which month, and a chat of a recipient the engine orders it with."""

    seller: str
    month: Month
    chat_id: int


def wanted_month(now: datetime, reader: Reader, args: str) -> Month:
    """The month before the reader's today, or with "current" the month so far."""
    today = Month.of(now.astimezone(reader.zone).date())
    return today if args.strip().lower() == "current" else today.previous


async def report_files(
    tx: Transaction, renderer: Renderer, reader: Reader, month: Month, seller: str | None
) -> tuple[Report, list[Upload]]:
    report = await month_report(tx, month, seller=seller)
    return report, files_of(report, renderer, reader)


def files_of(report: Report, renderer: Renderer, reader: Reader) -> list[Upload]:
    """The report's charts and CSV, made in a folder that is gone once their bytes are read:
    the outbox row keeps the bytes (bot/runtime/outbox/transport.py)."""
    words = Words(renderer, reader)
    font = find_font(read(LinkSettings).font)
    with tempfile.TemporaryDirectory(prefix="returndesk-report-") as folder:
        out = Path(folder)
        charts = write_charts(report, words, font, out)
        stem = f"report-{report.seller or 'all'}-{report.month}"
        table = write_csv(report, out / f"{stem}.csv")
        uploads = [Upload("photo", chart.name, chart.read_bytes()) for chart in charts]
        uploads.append(Upload("document", table.name, table.read_bytes()))
    return uploads


def sending_time(now: datetime, zone: ZoneInfo, calendar: Calendar) -> tuple[Month, datetime]:
    """The month whose report is owed this month, and when it is owed: the opening of the first
    working day of the current month on the recipient's calendar (its first midnight when the
    month has no working time at all)."""
    this = Month.of(now.astimezone(zone).date())
    starts = this.day_starts(zone)
    return this.previous, calendar.first_opening(starts[0], starts[-1]) or starts[0]


async def owed(tx: Transaction, shop: ShopConfig, now: datetime) -> list[Owed]:
    """The monthly reports due by `now` and not sent: each seller's to its deciders, and every
    seller's to support. Only last month's: a month missed while the bot was down is sent late,
    once; older ones are for /report and `returndesk report`."""
    wanted: list[Owed] = []
    for seller in shop.sellers:
        month, at = sending_time(now, ZoneInfo(seller.timezone), seller.calendar)
        if at <= now and seller.deciders:
            wanted.append(Owed(seller.id, month, seller.deciders[0].telegram_id))
    support = shop.support
    desk = support.chat_id or (support.members[0].telegram_id if support.members else None)
    month, at = sending_time(now, ZoneInfo(support.timezone), support.calendar)
    if desk is not None and at <= now:
        wanted.append(Owed(EVERY_SELLER, month, desk))
    if not wanted:
        return []
    sent = set(
        (
            await tx.session.execute(
                select(ReportSend.seller_id, ReportSend.month).where(
                    ReportSend.month.in_({str(o.month) for o in wanted})
                )
            )
        ).all()
    )
    return [o for o in wanted if (o.seller, str(o.month)) not in sent]


async def mark_sent(tx: Transaction, seller: str, month: Month, now: datetime) -> bool:
    """Record the send; False when it was recorded before (by another sweeper, or before a
    restart), so the caller sends nothing."""
    return await insert_ignore(
        tx.session, ReportSend, {"seller_id": seller, "month": str(month), "sent_at": now}
    )
