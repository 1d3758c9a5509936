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
import pstats
from collections import Counter
from pathlib import Path

from benchmarks.conversation import STEPS
from benchmarks.engine_phases import conversation_app, every_buyer, run_engine
from bot.engine.events import Incoming, Outcome

WARM_UP = 3  # conversations first, so templates are compiled and caches are full


async def run(buyers: int, url: str, folder: Path) -> Counter[int]:
    app = await conversation_app(buyers, url, folder, warm_up=WARM_UP)
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

    await every_buyer(counted, buyers)
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
