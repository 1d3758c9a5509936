"""How an update's and the sweeper's cost grow with the open cases and promises already held:
a fresh PostgreSQL database seeded (one INSERT ... SELECT generate_series a table) with N open
cases, each with an open promise due in the coming weeks, then buyers walk the benchmark
conversation in the engine, the sweeper sweeps, and the monthly report of October is made for
the seeded seller and for all sellers (support's). Printed: an update's median time and
statements, a sweep's and a report's time, and EXPLAIN (ANALYZE) of the sweeper's statements,
an update's and the report's, each run with the parameters the code gave it, inside a
transaction rolled back.

    python -m benchmarks.scaleout.growth [--sizes 0 100000 1000000] [--buyers 20] [--brief]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event

from benchmarks.conversation import POSTGRES
from bot.runtime.sweeper import Sweeper
from bot.services.report import Month, month_report
from bot.testing.budget import FIRST_BUYER, STEPS, conversation_app, converse, statement_head

DATABASE = "returndesk_bench_growth"
SEED_FIRST = 50_000_000  # the seeded rows' ids and buyers, far from the conversations'
SELLER = "lucky-dragon"  # every seeded row's
REPORT_MONTH = Month(2026, 10)  # the month whose report is owed at the benchmark's clock

# Open cases, each on an order of its own with one item, and an open promise a case, due over
# the next 30 days from the benchmark clock (2026-11-21 09:00 UTC): a sweep finds few due. The
# orders were placed over the two years before November 2026, in the order of their ids as a
# shop's come, and their cases opened nine days later: a month's report reads a 24th of them.
SEED = [
    """INSERT INTO buyers (telegram_id, name, timezone)
       SELECT {first} + n, 'Seeded ' || n, 'UTC' FROM generate_series(0, {buyers} - 1) AS n""",
    """INSERT INTO orders (id, seller_id, marketplace, number, buyer_id, currency, paid_minor,
         shipping_minor, refunded_minor, status, placed_at, delivered_at, imported_at, buyer_name)
       SELECT {first} + n, 'lucky-dragon', 'ozon', 'G-' || n, {first} + n % {buyers}, 'RUB',
         100000, 0, 0, 'delivered',
         timestamptz '2024-11-01' + (n::bigint * 730 / {n}) * interval '1 day',
         timestamptz '2024-11-10' + (n::bigint * 730 / {n}) * interval '1 day',
         timestamptz '2026-11-01', ''
       FROM generate_series(0, {n} - 1) AS n""",
    """INSERT INTO order_items (id, order_id, position, sku, title, quantity, unit_price_minor)
       SELECT {first} + n, {first} + n, 0, 'K', 'Kettle', 1, 100000
       FROM generate_series(0, {n} - 1) AS n""",
    """INSERT INTO cases (id, order_id, buyer_id, seller_id, kind, state, evidence_done,
         buyer_declines, created_at, updated_at)
       SELECT {first} + n, {first} + n, {first} + n % {buyers}, 'lucky-dragon', 'problem',
         'awaiting_seller', true, 0,
         timestamptz '2024-11-10' + (n::bigint * 730 / {n}) * interval '1 day',
         timestamptz '2024-11-10' + (n::bigint * 730 / {n}) * interval '1 day'
       FROM generate_series(0, {n} - 1) AS n""",
    """INSERT INTO promises (id, case_id, kind, owner_role, owner_ref, state, created_at,
         due_at, warn_at)
       SELECT {first} + n, {first} + n, 'seller_decision', 'seller', 'lucky-dragon', 'open',
         timestamptz '2026-11-01',
         timestamptz '2026-11-22' + (n % 720) * interval '1 hour',
         timestamptz '2026-11-22' + (n % 720) * interval '1 hour' - interval '4 hours'
       FROM generate_series(0, {n} - 1) AS n""",
]


async def fresh_database() -> str:
    admin = await asyncpg.connect(POSTGRES.replace("+asyncpg", ""))
    await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    await admin.close()
    return POSTGRES.rsplit("/", 1)[0] + f"/{DATABASE}"


async def drop_database() -> None:
    admin = await asyncpg.connect(POSTGRES.replace("+asyncpg", ""))
    await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin.close()


async def seed(dsn: str, rows: int) -> float:
    started = time.monotonic()
    if rows:
        connection = await asyncpg.connect(dsn)
        try:
            for statement in SEED:
                await connection.execute(
                    statement.format(first=SEED_FIRST, n=rows, buyers=max(1, rows // 10))
                )
            await connection.execute("ANALYZE")
        finally:
            await connection.close()
    return time.monotonic() - started


class Recorder:
    """The statements the code sends, with their parameters, while `on` is set."""

    def __init__(self, engine: Any) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if self.on:
            self.seen.append((sql, params))


async def explain(dsn: str, sql: str, params: Any) -> str:
    """The statement's plan as the bot's connections run it: prepared, on its generic plan
    (they set plan_cache_mode=force_generic_plan: bot/storage/database.py), run again now with
    the parameters the code gave it, inside a transaction rolled back; a write that cannot run
    twice (its unique key is taken by the first run) gets the plan without running."""
    connection = await asyncpg.connect(
        dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
    )
    try:
        await connection.execute(f"PREPARE measured AS {sql}")
        values = ", ".join(_literal(value) for value in params or ())
        execute = f"EXECUTE measured({values})" if values else "EXECUTE measured"
        for options in ("ANALYZE, COSTS OFF, SUMMARY ON", "COSTS OFF"):
            transaction = connection.transaction()
            await transaction.start()
            try:
                rows = await connection.fetch(f"EXPLAIN ({options}) {execute}")
                break
            except asyncpg.PostgresError as error:
                rows = [(f"(not run again: {type(error).__name__})",)]
            finally:
                await transaction.rollback()
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)


def _literal(value: Any) -> str:
    """A parameter as a literal of EXECUTE, which takes it as the prepared parameter's type."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'"
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text.replace("'", "''") + "'"


def scans(plan: str) -> str:
    """The plan's scans, in a line: which tables it reads and how."""
    found = re.findall(
        r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan"
        r"|Seq Scan)(?: using \w+)? on \w+)",
        plan,
    )
    return "; ".join(dict.fromkeys(found)) or "no table read"


async def measure(rows: int, buyers: int, show: bool, folder: Path) -> None:
    url = await fresh_database()
    dsn = url.replace("+asyncpg", "")
    try:
        app = await conversation_app(buyers, folder, url=url, warm_up=2)
        seconds = await seed(dsn, rows)
        print(f"\n== {rows:,} open cases and promises (seeded in {seconds:.0f} s)")
        recorder = Recorder(app.db.engine)
        timings: list[float] = []
        statements = 0

        async def timed(incoming: Any) -> Any:
            started = time.perf_counter()
            outcome = await app.engine.process(incoming)
            timings.append(time.perf_counter() - started)
            return outcome

        recorder.on = True
        for n in range(buyers):
            await converse(timed, FIRST_BUYER + n)
        recorder.on = False
        update_statements = recorder.seen
        statements = sum(
            1 for sql, _ in update_statements if not sql.startswith(("BEGIN", "COMMIT"))
        )
        print(
            f"an update: median {statistics.median(timings) * 1000:.2f} ms,"
            f" p90 {sorted(timings)[int(0.9 * len(timings))] * 1000:.2f} ms"
            f" over {len(timings)} updates ({buyers} buyers x {len(STEPS)} steps),"
            f" {statements / len(timings):.2f} statements each"
        )
        sweeper = Sweeper(db=app.db, clock=app.clock, engine=app.engine)
        recorder.seen = []
        recorder.on = True
        sweeps = []
        for _ in range(3):
            started = time.perf_counter()
            await sweeper.sweep()
            sweeps.append(time.perf_counter() - started)
        recorder.on = False
        sweep_statements = recorder.seen
        print(f"a sweep (nothing due): median {statistics.median(sweeps) * 1000:.1f} ms of 3")
        reports = await report_statements(app, recorder)
        await app.close()
        for title, recorded in (
            ("sweeper", sweep_statements),
            ("update", update_statements),
            *reports,
        ):
            await explain_each(dsn, title, recorded, show)
    finally:
        await drop_database()


Recorded = list[tuple[str, Any]]


async def report_statements(app: Any, recorder: Recorder) -> list[tuple[str, Recorded]]:
    """The monthly report of REPORT_MONTH, the seeded seller's and every seller's (support's,
    docs/reports.md), each timed once; the statements each sent."""
    reports = []
    for whose in (SELLER, None):
        recorder.seen = []
        recorder.on = True
        started = time.perf_counter()
        async with app.db.reading() as tx:
            await month_report(tx, REPORT_MONTH, seller=whose)
        took = time.perf_counter() - started
        recorder.on = False
        title = f"report {whose or 'all sellers'}"
        print(f"{title} for {REPORT_MONTH}: {took * 1000:.0f} ms")
        reports.append((title, recorder.seen))
    return reports


async def explain_each(dsn: str, title: str, recorded: Recorded, show: bool) -> None:
    """A line for each distinct statement: its execution time and the scans of its plan."""
    done: set[str] = set()
    for sql, params in recorded:
        if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            continue
        if sql in done:
            continue
        done.add(sql)
        plan = await explain(dsn, sql, params)
        took = re.search(r"Execution Time: ([\d.]+) ms", plan)
        head = statement_head(sql)
        print(f"  {title}: {head:<34} {took.group(1) if took else '?':>8} ms   {scans(plan)}")
        if show:
            print("    " + sql[:300].replace("\n", " "))
            print("    " + plan.replace("\n", "\n    "))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100_000, 1_000_000])
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--brief", action="store_true", help="a line a statement, no plans")
    options = parser.parse_args()
    for rows in options.sizes:
        with tempfile.TemporaryDirectory(prefix="returndesk-growth-") as folder:
            asyncio.run(measure(rows, options.buyers, not options.brief, Path(folder)))


if __name__ == "__main__":
    main()
