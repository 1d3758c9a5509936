"""Python function calls per update inside the engine, step by step through the benchmark
conversation: a count, not a time, so it reads the same however busy the shared machine is.

    python -m benchmarks.engine_calls --buyers 20 [--database postgresql]

Fewer calls is not always less CPU (a C call counts as one, like a Python one), but on the
engine's path, which is mostly SQLAlchemy's Python, the two move together; confirm a change with
engine_phases and conversation.py. The count includes profiler-visible C calls and each resumption
of a coroutine.
"""

from __future__ import annotations

import cProfile
import json
import pstats
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.conversation import FIRST_BUYER, STEPS, orders_for
from benchmarks.engine_phases import converse, run_engine
from bot.app import build_app
from bot.clock import FakeClock
from bot.engine.events import Incoming, Outcome
from bot.services.importer import import_orders

WARM_UP = 3  # conversations first, so templates are compiled and caches are full


async def run(buyers: int, url: str, folder: Path) -> Counter[int]:
    clock = FakeClock(datetime(2026, 11, 21, 9, tzinfo=UTC))
    app = await build_app(database_url=url, clock=clock)
    (folder / "orders.json").write_text(json.dumps(orders_for(buyers + WARM_UP)))
    async with app.db.transaction() as session:
        await import_orders(session, folder / "orders.json", shop=app.shop, now=clock.now())
    for n in range(WARM_UP):
        await converse(app.engine.process, FIRST_BUYER + buyers + n)
    calls: Counter[int] = Counter()
    step = 0

    async def counted(event: Incoming) -> Outcome:
        nonlocal step
        profile = cProfile.Profile()
        profile.enable()
        try:
            return await app.engine.process(event)
        finally:
            profile.disable()
            calls[step % len(STEPS)] += pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
            step += 1

    for n in range(buyers):
        await converse(counted, FIRST_BUYER + n)
    await app.close()
    return calls


def main() -> None:
    options, calls = run_engine(__doc__ or "", 20, run)
    print(f"{options.buyers} conversations, {options.database}: Python calls per update")
    for number, name in enumerate(STEPS):
        print(f"  step {number + 1} ({name:<7}) {calls[number] / options.buyers:8.0f}")
    print(f"  {'all steps':<17} {sum(calls.values()) / options.buyers / len(STEPS):8.0f}")


if __name__ == "__main__":
    main()
