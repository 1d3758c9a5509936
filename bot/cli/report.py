"""returndesk report: a calendar month's numbers (docs/reports.md), as rich tables, CSV, PNG
charts or one HTML page, in the seller's language (support's for all sellers)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.config.settings import LinkSettings, read
from bot.rendering import Reader
from bot.rendering.fonts import find_font
from bot.services.report import Month, Report, month_report
from bot.services.report_files import Words, tables, title, write_charts, write_csv, write_html


class Format(StrEnum):
    TEXT = "text"
    CSV = "csv"
    PNG = "png"
    HTML = "html"


def report(  # noqa: PLR0917 - a command's arguments and options
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    month: Annotated[
        str | None,
        typer.Option(help="YYYY-MM, default the last month; or YYYY-MM..YYYY-MM for each month."),
    ] = None,
    months: Annotated[
        str | None, typer.Option(help="A span of months, e.g. 2026-01..2026-11 (one report each).")
    ] = None,
    seller: Annotated[
        str | None, typer.Option(help="One seller, in their zone; default all sellers, in UTC.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="What to make.")] = Format.TEXT,
    out: Annotated[
        Path, typer.Option(help="The folder for csv, png and html files.", file_okay=False)
    ] = Path("reports"),
) -> None:
    """Refunds by reason, SKU and marketplace, deviations from policy, promises kept, waiting
    times and the buyers with the most cases, for calendar months."""

    async def go() -> None:
        app = await open_app(database_url, config)
        try:
            if seller is not None:
                try:
                    who = app.shop.seller(seller)
                except KeyError:
                    errors.print(f"no seller {seller!r} in the shop file")
                    raise typer.Exit(2) from None
                reader = Reader(who.language, who.timezone)
            else:
                reader = Reader(app.shop.support.language, app.shop.support.timezone)
            if months or (month and ".." in month):
                wanted = Month.span(months or month or "")
            elif month:
                wanted = [Month.parse(month)]
            else:
                today = app.clock.now().astimezone(reader.zone).date()
                wanted = [Month.of(today).previous]
            words = Words(app.renderer, reader)
            made: list[Path] = []
            with Progress(
                console=console, transient=True, disable=len(wanted) < 2 or not console.is_terminal
            ) as progress:
                task = progress.add_task("report", total=len(wanted))
                for one in wanted:
                    async with app.db.reading() as tx:
                        numbers = await month_report(tx, one, seller=seller)
                    made += _output(numbers, words, format, out)
                    progress.advance(task)
        finally:
            await app.close()
        for path in made:
            console.print(str(path))

    run(go())


def _output(report: Report, words: Words, format: Format, out: Path) -> list[Path]:
    if format is Format.TEXT:
        _print(report, words)
        return []
    out.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report.seller or 'all'}-{report.month}"
    if format is Format.CSV:
        return [write_csv(report, out / f"{stem}.csv")]
    font = find_font(read(LinkSettings).font)
    charts = write_charts(report, words, font, out)
    if format is Format.PNG:
        return charts
    page = write_html(report, words, charts, out / f"{stem}.html")
    for chart in charts:
        chart.unlink()
    return [page]


def _print(report: Report, words: Words) -> None:
    console.print(f"[bold]{title(report, words)}[/] ({report.zone})")
    for heading, columns, rows in tables(report, words):
        table = Table(title=heading, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        if not rows:
            table.add_row(words("none"), *[""] * (len(columns) - 1))
        console.print(table)
