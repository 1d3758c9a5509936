"""The monthly report goes by itself (docs/reports.md, "Every month"): at the opening of the
first working day of a month on the recipient's calendar, each seller's deciders get last
month's report and support every seller's; once, whatever the sweepers and restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.runtime.sweeper import Sweeper
from bot.sandbox.memory import Delivered
from tests.conversations.test_report import CHARTS, album, report_csv
from tests.conversations.test_seller import missing_cable
from tests.desk import Desk

# Tuesday 1 December 2026, 09:00 in Berlin: Acme's first opening of the month. Support's
# calendar (London, from 08:00) opens at the same instant.
DECEMBER_OPENS = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def reports(messages: list[Delivered], month: str) -> list[Delivered]:
    return [m for m in messages if f"Report for {month}" in m.plain]


async def test_deciders_get_last_month_at_the_first_opening_and_only_then(desk: Desk) -> None:
    dora, dmitri, li = desk.staff("dora"), desk.staff("dmitri"), desk.staff("li")
    await missing_cable(desk)  # Anna's case, in November

    desk.at(DECEMBER_OPENS - timedelta(minutes=1))
    await desk.sweep()
    assert reports(dora.inbox, "2026-11") == []

    desk.at(DECEMBER_OPENS)
    assert (await desk.sweep()).reported >= 1
    for decider in (dora, dmitri):
        [summary] = reports(decider.inbox, "2026-11")
        assert "Report for 2026-11 · acme" in summary.plain
        assert "1 case opened" in summary.plain
        assert len(album(summary)) == CHARTS
        name, rows = report_csv(summary)
        assert name == "report-acme-2026-11.csv"
        assert [row[5] for row in rows if row[2] == "this_month_cases"] == ["1"]
    # Lucky Dragon had no case in November: a month with nothing in it sends nothing.
    assert reports(li.inbox, "2026-11") == []

    desk.later(days=3)
    assert (await desk.sweep()).reported == 0
    assert len(reports(dora.inbox, "2026-11")) == 1


async def test_support_gets_every_sellers_month_in_the_desk(desk: Desk) -> None:
    await missing_cable(desk)
    group = desk.sandbox.app.shop.support.chat_id
    assert group is not None

    desk.at(DECEMBER_OPENS)
    await desk.sweep()

    [summary] = reports(desk.sandbox.channel.inbox(group), "2026-11")
    assert "Report for 2026-11 · all sellers" in summary.plain
    assert summary.thread_id is None  # the group's general topic, not a case's
    name, _ = report_csv(summary)
    assert name == "report-all-2026-11.csv"


async def test_a_holiday_on_the_first_moves_it_to_the_first_working_day(desk: Desk) -> None:
    dora = desk.staff("dora")
    desk.at(datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
    await missing_cable(desk)  # a December case

    # 1 January 2027 is a holiday on Acme's calendar and then comes a weekend.
    desk.at(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await desk.sweep()
    desk.at(datetime(2027, 1, 3, 20, 0, tzinfo=UTC))
    await desk.sweep()
    assert reports(dora.inbox, "2026-12") == []

    desk.at(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))  # Monday, 09:00 in Berlin
    await desk.sweep()
    [summary] = reports(dora.inbox, "2026-12")
    assert "Report for 2026-12 · acme" in summary.plain


async def test_sent_once_across_two_sweepers_a_restart_and_a_late_start(desk: Desk) -> None:
    dora = desk.staff("dora")
    group = desk.sandbox.app.shop.support.chat_id
    assert group is not None
    await missing_cable(desk)

    # The bot was down on the first working day: the report goes late, on the first sweep.
    desk.at(DECEMBER_OPENS + timedelta(days=8))
    app = desk.sandbox.app
    sweepers = [Sweeper(db=app.db, clock=app.clock, engine=app.engine) for _ in range(2)]
    results = await asyncio.gather(*(s.sweep() for s in sweepers))
    await desk.sweep()  # delivers what they owe
    # A restarted process starts with a new sweeper; the database says what was sent.
    restarted = Sweeper(db=app.db, clock=app.clock, engine=app.engine)
    assert (await restarted.sweep()).reported == 0
    await desk.sweep()

    # Every seller and support, each settled by one of the two (the empty months send nothing).
    assert sum(r.reported for r in results) == len(app.shop.sellers) + 1
    assert len(reports(dora.inbox, "2026-11")) == 1
    assert len(reports(desk.sandbox.channel.inbox(group), "2026-11")) == 1
