"""The monthly report on a month with many cases (docs/reports.md).

    python -m benchmarks.report [--cases 100000] [--database postgresql] [--rounds 3]

Seeds one seller's November 2026 with CASES cases, each on an order of its own with one item,
a refund for three cases in five, a deviating offer for one in ten, and two promises a case
(kept or missed), plus a tenth as many in October for the comparison; then times
`month_report` (the median of the rounds, after one warm-up) and prints the peak memory the
report took (tracemalloc), which stays small because only the durations come into Python."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.conversation import database_url
from bot.domain.enums import (
    CaseKind,
    CaseState,
    OfferStatus,
    OrderStatus,
    PromiseKind,
    PromiseState,
    Reason,
    RefundStatus,
    Remedy,
    Role,
)
from bot.services.report import Month, month_report
from bot.storage.database import Database
from bot.storage.models import Buyer, Case, Offer, Order, OrderItem, Promise, Refund, Seller

NOVEMBER = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
BUYERS = 5_000
CHUNK = 5_000
REASONS = [Reason.DEFECT, Reason.WRONG_ITEM, Reason.MISSING_ITEMS, Reason.NOT_AS_DESCRIBED]


async def seed(db: Database, cases: int) -> None:
    rng = random.Random(21)
    async with db.engine.begin() as connection:
        await connection.execute(
            insert(Seller),
            [{"id": "acme", "name": "Acme", "language": "en", "timezone": "Europe/Berlin"}],
        )
        await connection.execute(
            insert(Buyer),
            [{"telegram_id": 10_000 + n, "name": f"Buyer {n}"} for n in range(BUYERS)],
        )
    october = cases // 10
    total = cases + october
    for start in range(0, total, CHUNK):
        rows: dict[str, list[dict[str, Any]]] = {
            "orders": [],
            "items": [],
            "cases": [],
            "refunds": [],
            "offers": [],
            "promises": [],
        }
        for n in range(start, min(start + CHUNK, total)):
            month_start = NOVEMBER if n < cases else NOVEMBER - timedelta(days=31)
            opened = month_start + timedelta(seconds=rng.randrange(29 * 86400))
            _one(rows, n + 1, opened, rng)
        async with db.engine.begin() as connection:
            for table, model in (
                ("orders", Order),
                ("items", OrderItem),
                ("cases", Case),
                ("offers", Offer),
                ("refunds", Refund),
                ("promises", Promise),
            ):
                if rows[table]:
                    await connection.execute(insert(model), rows[table])
    if not db.is_sqlite:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")


def _one(
    rows: dict[str, list[dict[str, Any]]], n: int, opened: datetime, rng: random.Random
) -> None:
    price = rng.randrange(500, 10_000) * 100
    rows["orders"].append(
        {
            "id": n,
            "seller_id": "acme",
            "marketplace": rng.choice(("ozon", "wildberries", "yandex")),
            "number": f"N-{n}",
            "buyer_id": 10_000 + rng.randrange(BUYERS),
            "currency": "RUB",
            "paid_minor": price,
            "shipping_minor": 0,
            "refunded_minor": 0,
            "status": OrderStatus.DELIVERED,
            "placed_at": opened - timedelta(days=5),
            "imported_at": opened - timedelta(days=5),
        }
    )
    buyer = rows["orders"][-1]["buyer_id"]
    rows["items"].append(
        {
            "id": n,
            "order_id": n,
            "position": 0,
            "sku": f"SKU-{rng.randrange(300)}",
            "title": "Item",
            "quantity": 1,
            "unit_price_minor": price,
        }
    )
    resolved = rng.random() < 0.8
    closed = opened + timedelta(hours=rng.expovariate(1 / 30))
    rows["cases"].append(
        {
            "id": n,
            "order_id": n,
            "buyer_id": buyer,
            "seller_id": "acme",
            "kind": CaseKind.PROBLEM,
            "state": CaseState.RESOLVED if resolved else CaseState.AWAITING_SELLER,
            "reason": rng.choice(REASONS),
            "item_id": n,
            "evidence_done": True,
            "buyer_declines": 0,
            "created_at": opened,
            "updated_at": closed,
            "closed_at": closed if resolved else None,
        }
    )
    if rng.random() < 0.6:
        rows["refunds"].append(
            {
                "order_id": n,
                "case_id": n,
                "amount_minor": price // 2,
                "currency": "RUB",
                "reason": rows["cases"][-1]["reason"],
                "status": RefundStatus.EXECUTED,
                "idempotency_key": f"case:{n}",
                "created_at": closed,
            }
        )
    if rng.random() < 0.1:
        rows["offers"].append(
            {
                "case_id": n,
                "round": 1,
                "remedy": Remedy.REFUND,
                "amount_minor": price // 2,
                "currency": "RUB",
                "standard_remedy": Remedy.PERCENT,
                "standard_amount_minor": price // 3,
                "deviation": True,
                "proposed_by_role": Role.SELLER,
                "status": OfferStatus.ACCEPTED,
                "created_at": opened + timedelta(hours=1),
                "decided_by_name": rng.choice(("Dora", "Dmitri")),
            }
        )
    for kind, hours in ((PromiseKind.FIRST_REPLY, 4), (PromiseKind.SELLER_DECISION, 24)):
        due = opened + timedelta(hours=hours)
        kept = rng.random() < 0.85
        rows["promises"].append(
            {
                "case_id": n,
                "kind": kind,
                "owner_role": Role.SELLER,
                "owner_ref": "acme",
                "state": PromiseState.KEPT if kept else PromiseState.BREACHED,
                "created_at": opened,
                "due_at": due,
                "warn_at": due - timedelta(hours=1),
                "closed_at": due - timedelta(hours=hours * rng.random()) if kept else due,
            }
        )


async def run(url: str, cases: int, rounds: int) -> None:
    db = Database(url)
    await db.upgrade()
    started = time.perf_counter()
    await seed(db, cases)
    print(f"seeded {cases:,} cases in November and {cases // 10:,} in October", end="")
    print(f" in {time.perf_counter() - started:.1f} s")
    spent = []
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        async with db.reading() as tx:
            report = await month_report(tx, Month(2026, 11), seller="acme")
        if round_:  # the first is a warm-up
            spent.append(time.perf_counter() - started)
    # Memory in a round of its own: tracing slows Python down.
    tracemalloc.start()
    async with db.reading() as tx:
        await month_report(tx, Month(2026, 11), seller="acme")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"month_report: {statistics.median(spent) * 1000:,.0f} ms (median of {rounds}), ", end="")
    print(f"peak Python memory {peak / 2**20:.1f} MiB")
    print(f"  cases {report.totals.cases:,}, refunds {report.totals.refunds:,}, ", end="")
    print(f"first reply median {report.first_reply.median}, p90 {report.first_reply.p90}")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="returndesk-report-") as folder:
        url = database_url(options.database, Path(folder), "report")
        asyncio.run(run(url, options.cases, options.rounds))


if __name__ == "__main__":
    main()
