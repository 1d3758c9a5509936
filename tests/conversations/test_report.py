"""The monthly numbers in Telegram (docs/reports.md, "In Telegram"): /report in a decider's chat
and in the support chat, each a summary followed by the charts as an album and the CSV."""

from __future__ import annotations

import csv
import io

from bot.sandbox.memory import Delivered
from bot.services.report import Month
from tests.conversations.test_seller import missing_cable
from tests.desk import Desk

CSV_HEADER = ["month", "seller", "section", "key", "currency", "count", "amount", "share"]
CHARTS = 4  # refunds by reason, by SKU, satisfaction, promises kept over the month


def report_csv(message: Delivered) -> tuple[str, list[list[str]]]:
    [(name, content)] = [(name, data) for kind, name, data in message.uploads if kind == "document"]
    return name, list(csv.reader(io.StringIO(content.decode("utf-8"))))


def album(message: Delivered) -> list[bytes]:
    return [content for kind, _, content in message.uploads if kind == "photo"]


async def test_a_decider_gets_the_month_so_far_as_a_summary_an_album_and_a_csv(
    desk: Desk,
) -> None:
    dora = desk.staff("dora")
    await missing_cable(desk)
    month = Month.of(desk.clock.now().date())

    await dora.send("/report current")

    summary = dora.last
    assert f"Report for {month} · acme" in summary.plain
    assert "1 case opened" in summary.plain
    charts = album(summary)
    assert len(charts) == CHARTS and all(chart.startswith(b"\x89PNG") for chart in charts)
    name, rows = report_csv(summary)
    assert name == f"report-acme-{month}.csv"
    assert rows[0] == CSV_HEADER
    assert {row[1] for row in rows[1:]} == {"acme"}
    # Anna's case is the month's one case; its rating is still to come.
    assert [row[5] for row in rows if row[2] == "this_month_cases"] == ["1"]
    assert [row[5] for row in rows if row[2] == "rating"] == ["0"] * 5


async def test_support_gets_every_sellers_report_and_a_buyer_none(desk: Desk) -> None:
    sam, anna = desk.staff("sam"), desk.buyer("anna")
    await missing_cable(desk)
    group = desk.sandbox.app.shop.support.chat_id
    assert group is not None
    month = Month.of(desk.clock.now().date())

    await sam.send("/report current", topic=(group, None))

    [summary] = [m for m in desk.sandbox.channel.inbox(group) if "Report for" in m.plain]
    assert f"Report for {month} · all sellers" in summary.plain
    assert len(album(summary)) == CHARTS
    name, rows = report_csv(summary)
    assert name == f"report-all-{month}.csv"
    assert [row[5] for row in rows if row[2] == "this_month_cases"] == ["1"]
    assert {row[1] for row in rows[1:]} == {""}  # every seller
    await anna.send("/report")
    assert anna.last.plain == "Sorry, that is not available to you."
