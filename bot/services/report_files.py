"""The monthly report as files a person reads (docs/reports.md): a CSV of every figure, PNG
charts, and one HTML page with the tables and the charts inside. Words come from the catalogs in
the reader's language (templates/labels.j2 `report_word`), money in their currency format.

Here, not in the command, so the command and a message to a seller make the same files."""

from __future__ import annotations

import base64
import csv
import html
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from babel.dates import format_timedelta
from babel.numbers import format_decimal, format_percent

from bot.domain.money import Money
from bot.rendering import Reader, Renderer
from bot.rendering.charts import bar_chart, kept_chart
from bot.rendering.renderer import format_money
from bot.services.report import WHOLE_ORDER, Report


@dataclass(frozen=True)
class Words:
    """The report's words in one reader's language."""

    renderer: Renderer
    reader: Reader

    def __call__(self, key: str) -> str:
        return self.renderer.label("report_word", self.reader, key=key)

    def reason(self, code: str) -> str:
        return self.renderer.label("reason_name", self.reader, reason=code)

    def kind(self, code: str) -> str:
        return self.renderer.label("kind_name", self.reader, kind=code)

    def money(self, minor: int, currency: str) -> str:
        return format_money(Money.from_minor(minor, currency), self.reader.locale)

    def share(self, value: float | None) -> str:
        return "—" if value is None else str(format_percent(value, locale=self.reader.locale))

    def sku(self, key: str) -> str:
        return self("whole_order") if key == WHOLE_ORDER else key

    def duration(self, value: timedelta | None) -> str:
        if value is None:
            return "—"
        return str(format_timedelta(value, locale=self.reader.locale, threshold=1.5))


def title(report: Report, words: Words) -> str:
    who = report.seller or words("all_sellers")
    return f"{words('title')} · {who} · {report.month}"


def tables(report: Report, words: Words) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every table of the report: (its title, its headings, its rows), in words."""
    w = words
    totals, previous = report.totals, report.previous
    currencies = sorted(set(totals.refunded_minor) | set(previous.refunded_minor))
    return [
        (
            w("by_reason"),
            [w("reason"), w("refunds"), w("amount")],
            [
                [w.reason(a.key), str(a.count), w.money(a.minor, a.currency)]
                for a in report.by_reason
            ],
        ),
        (
            w("by_sku"),
            [w("sku"), w("refunds"), w("amount")],
            [[w.sku(a.key), str(a.count), w.money(a.minor, a.currency)] for a in report.by_sku],
        ),
        (
            w("by_marketplace"),
            [w("marketplace"), w("refunds"), w("amount"), w("share")],
            [
                [a.key, str(a.count), w.money(a.minor, a.currency), w.share(a.share)]
                for a in report.by_marketplace
            ],
        ),
        (
            w("deviations"),
            [w("decided_by"), w("offers"), w("above"), w("below")],
            [
                [
                    d.decided_by,
                    str(d.count),
                    w.money(d.above_minor, d.currency),
                    w.money(d.below_minor, d.currency),
                ]
                for d in report.deviations
            ],
        ),
        (
            w("promises"),
            [w("kind"), w("owner"), w("kept"), w("missed"), w("kept_share")],
            [
                [w.kind(p.kind), p.owner, str(p.kept), str(p.breached), w.share(p.share)]
                for p in report.promises
            ],
        ),
        (
            w("times"),
            ["", w("cases"), w("median"), w("p90")],
            [
                [w(name), str(t.count), w.duration(t.median), w.duration(t.p90)]
                for name, t in (
                    ("first_reply", report.first_reply),
                    ("resolution", report.resolution),
                )
            ],
        ),
        (
            w("top_buyers"),
            [w("buyer"), w("cases")],
            [[f"{b.name} ({b.buyer_id})", str(b.cases)] for b in report.top_buyers],
        ),
        (
            w("satisfaction"),
            [w("rating"), w("ratings")],
            [
                *[
                    [str(r), str(report.satisfaction.distribution.get(r, 0))]
                    for r in range(5, 0, -1)
                ],
                [w("average"), _average(report.satisfaction.average, w)],
            ],
        ),
        (
            w("lowest_comments"),
            [w("cases"), w("rating"), w("comment")],
            [[str(c), str(r), text] for c, r, text in report.satisfaction.lowest],
        ),
        (
            w("change"),
            ["", w("this_month"), w("previous_month")],
            [
                [w("cases"), str(totals.cases), str(previous.cases)],
                [w("refunds"), str(totals.refunds), str(previous.refunds)],
                *[
                    [
                        f"{w('amount')} {currency}",
                        w.money(totals.refunded_minor.get(currency, 0), currency),
                        w.money(previous.refunded_minor.get(currency, 0), currency),
                    ]
                    for currency in currencies
                ],
                [w("kept_share"), w.share(totals.kept_share), w.share(previous.kept_share)],
                [
                    f"{w('first_reply')}, {w('median')}",
                    w.duration(totals.first_reply_median),
                    w.duration(previous.first_reply_median),
                ],
            ],
        ),
    ]


def _average(value: float | None, words: Words) -> str:
    if value is None:
        return "—"
    return str(format_decimal(round(value, 2), locale=words.reader.locale))


def write_csv(report: Report, path: Path) -> Path:
    """Every figure as machine-readable rows: section, key, currency, count, amount (a decimal
    in the currency's unit), and the share where there is one. Codes, not words: a spreadsheet
    sorts and filters these."""
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["month", "seller", "section", "key", "currency", "count", "amount", "share"])
        seller = report.seller or ""

        def row(*cells: object) -> None:
            # section, key, currency, count, amount, share
            out.writerow([report.month, seller, *cells])

        def decimal(minor: int, currency: str) -> str:
            return str(Money.from_minor(minor, currency).amount)

        for section, amounts in (
            ("reason", report.by_reason),
            ("sku", report.by_sku),
            ("marketplace", report.by_marketplace),
        ):
            for a in amounts:
                share = "" if a.share is None else f"{a.share:.4f}"
                row(section, a.key, a.currency, a.count, decimal(a.minor, a.currency), share)
        for d in report.deviations:
            row(
                "above_standard",
                d.decided_by,
                d.currency,
                d.count,
                decimal(d.above_minor, d.currency),
                "",
            )
            row(
                "below_standard",
                d.decided_by,
                d.currency,
                d.count,
                decimal(d.below_minor, d.currency),
                "",
            )
        for p in report.promises:
            share = "" if p.share is None else f"{p.share:.4f}"
            row("promise_kept", f"{p.kind}:{p.owner}", "", p.kept, "", share)
            row("promise_missed", f"{p.kind}:{p.owner}", "", p.breached, "", "")
        for name, t in (("first_reply", report.first_reply), ("resolution", report.resolution)):
            for stat, value in (("median", t.median), ("p90", t.p90)):
                hours = "" if value is None else f"{value.total_seconds() / 3600:.2f}"
                row(f"{name}_{stat}_hours", "", "", t.count, hours, "")
        for rating in range(1, 6):
            row("rating", str(rating), "", report.satisfaction.distribution.get(rating, 0), "", "")
        average = report.satisfaction.average
        row(
            "rating_average",
            "",
            "",
            report.satisfaction.count,
            "" if average is None else f"{average:.2f}",
            "",
        )
        for b in report.top_buyers:
            row("buyer_cases", str(b.buyer_id), "", b.cases, "", "")
        for label, totals in (("this_month", report.totals), ("previous_month", report.previous)):
            row(f"{label}_cases", "", "", totals.cases, "", "")
            for currency, minor in totals.refunded_minor.items():
                row(f"{label}_refunds", "", currency, totals.refunds, decimal(minor, currency), "")
    return path


def write_charts(report: Report, words: Words, font: Path, folder: Path) -> list[Path]:
    """The charts as PNG: refunds by reason, by SKU (top 10), satisfaction, promises kept over
    the month.
    Amounts of several currencies are not added: a chart shows the report's main currency
    (the one with the most refunded), and the CSV has the rest."""
    main = _main_currency(report)
    stem = f"report-{report.seller or 'all'}-{report.month}"
    made = []
    for name, amounts, label in (
        ("by_reason", report.by_reason, words.reason),
        ("by_sku", report.by_sku, words.sku),
    ):
        shown = [a for a in amounts if a.currency == main]
        path = folder / f"{stem}-{name}.png"
        bar_chart(
            path,
            title=words(name),
            labels=[label(a.key) for a in shown],
            values=[a.minor for a in shown],
            value_texts=[f"{words.money(a.minor, a.currency)} · {a.count}" for a in shown],
            font=font,
            empty=words("none"),
        )
        made.append(path)
    ratings = report.satisfaction.distribution
    path = folder / f"{stem}-satisfaction.png"
    bar_chart(
        path,
        title=f"{words('satisfaction')}: {_average(report.satisfaction.average, words)}",
        labels=[f"{'★' * r}" for r in range(5, 0, -1)],
        values=[ratings.get(r, 0) for r in range(5, 0, -1)] if ratings else [],
        value_texts=[str(ratings.get(r, 0)) for r in range(5, 0, -1)],
        font=font,
        empty=words("none"),
    )
    made.append(path)
    path = folder / f"{stem}-kept.png"
    kept_chart(
        path,
        title=words("kept_by_day"),
        days=report.kept_by_day,
        kept=words("kept"),
        missed=words("missed"),
        day=words("day"),
        font=font,
        empty=words("none"),
    )
    made.append(path)
    return made


def _main_currency(report: Report) -> str | None:
    totals = report.totals.refunded_minor
    return max(totals, key=lambda c: totals[c]) if totals else None


def write_html(report: Report, words: Words, charts: list[Path], path: Path) -> Path:
    """One page, nothing to fetch: the tables, and the charts embedded as data URIs."""
    parts = [
        "<!doctype html>",
        f'<html lang="{html.escape(words.reader.locale)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title(report, words))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:left}img{max-width:100%;height:auto}</style>",
        f"</head><body><h1>{html.escape(title(report, words))}</h1>",
    ]
    for heading, columns, rows in tables(report, words):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if not rows:
            parts.append(f"<p>{html.escape(words('none'))}</p>")
            continue
        parts.append("<table><tr>")
        parts.extend(f"<th>{html.escape(c)}</th>" for c in columns)
        parts.append("</tr>")
        for row in rows:
            cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        parts.append(f'<p><img alt="" src="data:image/png;base64,{data}"></p>')
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
