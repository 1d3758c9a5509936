"""Due times on business calendars, as buyers are told them; the sweeper's queries use the due-
and warning-time indexes; the numbers on promises kept."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert

from bot.domain.enums import PromiseKind, PromiseState, Role
from bot.services.promises import SWEEP_BATCH, falling_due, warning_due
from bot.services.stats import promise_stats
from bot.storage.models import Promise
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import TEST_SHOP, Desk, open_flow


async def test_a_friday_evening_case_falls_due_after_the_weekend_and_a_holiday(desk: Desk) -> None:
    """Biz & Co promise a decision in 8 business hours, Mon–Fri 09–18 Moscow; Monday 23
    November is a holiday. Friday 17:00 leaves 1 hour; the other 7 come on Tuesday."""
    anna, nina = desk.buyer("anna"), desk.staff("nina")
    desk.at(datetime.fromisoformat("2026-11-20T17:00:00+03:00"))
    order = await desk.order(items=[("Kettle", 1, "5000")], seller="bizco")
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    await anna.send_photo()
    await anna.tap("photos_done")
    assert "by Tue, Nov 24 14:00 (Central European Standard Time)" in anna.last.plain  # Berlin
    assert "by Tue, Nov 24 16:00 (Moscow Standard Time)" in nina.last.plain
    [promise] = await desk.promises((await desk.latest_case()).id)
    assert promise.due_at == datetime.fromisoformat("2026-11-24T13:00:00+00:00")
    # Reminded when 6 of the 8 working hours have passed: Tuesday 14:00 Moscow.
    assert promise.warn_at == datetime.fromisoformat("2026-11-24T11:00:00+00:00")


async def test_a_promise_across_a_daylight_saving_switch_is_shown_in_the_new_time(
    desk: Desk,
) -> None:
    """A day (calendar time) from Saturday 10:00 in Berlin, the night the clocks go forward, is
    24 hours later: Sunday 11:00 summer time."""
    anna = desk.buyer("anna")
    desk.at(datetime.fromisoformat("2027-03-27T10:00:00+01:00"))
    await describe_defect(desk, price="5000")
    assert "by Sun, Mar 28 11:00 (Central European Summer Time)" in anna.last.plain


async def test_ten_thousand_open_promises_are_swept_through_the_indexes(desk: Desk) -> None:
    await describe_defect(desk, price="5000")
    case = await desk.latest_case()
    now = desk.clock.now()
    rows = [
        {
            "case_id": case.id,
            "kind": PromiseKind.FIRST_REPLY,
            "owner_role": Role.SELLER,
            "owner_ref": "acme",
            "state": PromiseState.OPEN,
            "created_at": now,
            "due_at": now + timedelta(days=30, minutes=n),
            "warn_at": now + timedelta(days=20, minutes=n),
        }
        for n in range(10_000)
    ]
    async with desk.db.transaction() as session:
        await session.execute(insert(Promise), rows)
    done = await desk.sweep()
    assert (done.breached, done.reminded) == (0, 0)
    for query, index in (
        (falling_due(now), "ix_promises_open_due"),
        (warning_due(now), "ix_promises_open_warn"),
    ):
        plan = await explain(desk, query)
        assert index in plan, plan
        if not desk.db.is_sqlite:
            # Planned for the batch a sweep takes, not a guessed tenth of the rows: at a
            # million promises the guess is a parallel scan every sweep (bot/storage/plans.py).
            assert f"rows={SWEEP_BATCH} " in plan.splitlines()[0], plan


async def explain(desk: Desk, query: Any) -> str:
    """The query's plan as the bot runs it: on PostgreSQL prepared, on its generic plan (the
    bot's connections force it: bot/storage/database.py), run with the query's parameters."""
    async with desk.db.transaction() as session:
        connection = await session.connection()
        if desk.db.is_sqlite:
            compiled = query.compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            return "\n".join(str(row[-1]) for row in rows)
        await connection.exec_driver_sql("ANALYZE promises")
        compiled = query.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        parameters = compiled.construct_params()
        values = ", ".join(
            str(
                bindparam(name, parameters[name], type_=compiled.binds[name].type).compile(
                    dialect=connection.dialect, compile_kwargs={"literal_binds": True}
                )
            )
            for name in compiled.positiontup
        )
        await connection.exec_driver_sql(f"PREPARE swept AS {compiled}")
        rows = await connection.exec_driver_sql(f"EXPLAIN EXECUTE swept({values})")
        await connection.exec_driver_sql("DEALLOCATE swept")
        return "\n".join(str(row[-1]) for row in rows)


async def test_the_numbers_count_kept_and_missed_promises(desk: Desk) -> None:
    dora = desk.staff("dora")
    await describe_defect(desk, price="5000")
    desk.later(hours=2)
    await dora.click("Approve")  # kept, after 2 hours
    await describe_defect(desk, price="5000")
    desk.later(days=2)
    await desk.sweep()  # missed: the case goes to support
    async with desk.db.reading() as tx:
        numbers = await promise_stats(tx)
    decisions = numbers.by_seller_and_kind["acme", PromiseKind.SELLER_DECISION]
    assert (decisions.kept, decisions.breached, decisions.share) == (1, 1, 0.5)
    support = numbers.by_seller_and_kind["acme", PromiseKind.SUPPORT_REPLY]
    assert (support.open, support.share) == (1, None)
    # First replies: 2 hours, and 24 hours (the breach), so the median is 13 hours.
    assert numbers.first_reply == timedelta(hours=13)
    assert numbers.cases == 2


def test_stats_and_sweep_from_the_command_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "COLUMNS": "120",
    }

    def returndesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(TEST_SHOP)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    swept = returndesk("sweep")
    assert swept.returncode == 0 and "0 reminded, 0 escalated" in swept.stdout
    numbers = returndesk("stats")
    assert numbers.returncode == 0 and "median time to first reply: —" in numbers.stdout
