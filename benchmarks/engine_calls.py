"""Python function calls per update inside the engine, step by step through the benchmark
conversation: a count, not a time, so it reads the same however busy the shared machine is.
tests/test_budget.py holds a whole conversation's count to a budget.

    python -m benchmarks.engine_calls --buyers 20 [--database postgresql]

Fewer calls is not always less CPU (a C call counts as one, like a Python one), but on the
engine's path, which is mostly SQLAlchemy's Python, the two move together; confirm a change with
engine_phases and conversation.py. The count includes profiler-visible C calls and each resumption
of a coroutine.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.engine_phases import run_engine
from bot.testing.budget import STEPS, conversation_app, count_calls

WARM_UP = 3  # conversations first, so templates are compiled and caches are full


async def run(buyers: int, url: str, folder: Path) -> Counter[int]:
    app = await conversation_app(buyers, folder, url=url, warm_up=WARM_UP)
    calls = await count_calls(app, buyers)
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
