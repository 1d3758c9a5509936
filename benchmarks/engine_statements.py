"""Database statements per update inside the engine, step by step through the benchmark
conversation, and what they are: a count, like engine_calls, so it reads the same however busy
the machine is. tests/test_budget.py holds these counts to a budget.

    python -m benchmarks.engine_statements --buyers 5 [--database postgresql] [--show]

On PostgreSQL each one is a round trip, and each costs the bot about 110 µs of CPU (BENCHMARKS.md
measures it). BEGIN and COMMIT count as one each, as they are on the wire with asyncpg. The
sender's statements are not the engine's and are not counted here.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.engine_phases import run_engine
from bot.testing.budget import STEPS, Statements, conversation_app, count_statements

WARM_UP = 1


async def run(buyers: int, url: str, folder: Path) -> Statements:
    app = await conversation_app(buyers, folder, url=url, warm_up=WARM_UP)
    seen = await count_statements(app, buyers)
    await app.close()
    return seen


def main() -> None:
    options, seen = run_engine(__doc__ or "", 5, run, show=True)
    buyers = options.buyers
    print(f"{buyers} conversations, {options.database}: statements per update")
    for number, name in enumerate(STEPS):
        counts = seen[number]
        print(f"  step {number + 1} ({name:<7}) {sum(counts.values()) / buyers:6.2f}")
        if options.show:
            for head, count in counts.most_common():
                print(f"      {count / buyers:5.2f}  {head}")
    total = sum(sum(counts.values()) for counts in seen.values())
    print(f"  {'all steps':<17} {total / buyers / len(STEPS):6.2f}")


if __name__ == "__main__":
    main()
