"""A month's report as a Telegram message carries it: the summary's figures, the charts as
photos and the CSV as a document (docs/reports.md, "In Telegram")."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from bot.config.settings import LinkSettings, read
from bot.engine.events import Upload
from bot.rendering import Reader, Renderer
from bot.rendering.fonts import find_font
from bot.services.report import Month, Report, month_report
from bot.services.report_files import Words, write_charts, write_csv
from bot.storage.transaction import Transaction


def wanted_month(now: datetime, reader: Reader, args: str) -> Month:
    """The month before the reader's today, or with "current" the month so far."""
    today = Month.of(now.astimezone(reader.zone).date())
    return today if args.strip().lower() == "current" else today.previous


async def report_files(
    tx: Transaction, renderer: Renderer, reader: Reader, month: Month, seller: str | None
) -> tuple[Report, list[Upload]]:
    """The report and its files, made in a folder that is gone once their bytes are read: the
    outbox row keeps the bytes (bot/runtime/outbox/transport.py)."""
    report = await month_report(tx, month, seller=seller)
    words = Words(renderer, reader)
    font = find_font(read(LinkSettings).font)
    with tempfile.TemporaryDirectory(prefix="returndesk-report-") as folder:
        out = Path(folder)
        charts = write_charts(report, words, font, out)
        stem = f"report-{seller or 'all'}-{month}"
        table = write_csv(report, out / f"{stem}.csv")
        uploads = [Upload("photo", chart.name, chart.read_bytes()) for chart in charts]
        uploads.append(Upload("document", table.name, table.read_bytes()))
    return report, uploads
