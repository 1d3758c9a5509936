"""Database statements per update inside the engine, step by step through the benchmark
conversation, and what they are: a count, like engine_calls, so it reads the same however busy
the machine is.

    python -m benchmarks.engine_statements --buyers 5 [--database postgresql] [--show]

On PostgreSQL each one is a round trip, and each costs the bot about 110 µs of CPU (BENCHMARKS.md
measures it). BEGIN and COMMIT count as one each, as they are on the wire with asyncpg. The
sender's statements are not the engine's and are not counted here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.conversation import STEPS
from benchmarks.engine_phases import conversation_app, every_buyer, run_engine
from bot.engine.events import Incoming, Outcome

WARM_UP = 1
Statements = dict[int, Counter[str]]  # by step: each statement's first words, how often


def _head(sql: str) -> str:
    """What a statement is, in a few words: its verb and its table."""
    words = re.sub(r"\s+", " ", sql).strip()
    match = re.match(r"(WITH \w+|SELECT|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+)", words)
    if match is None:
        return words[:40]
    if match.group(1) == "SELECT":
        outer = words
        while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:  # subqueries out
            outer = inner
        table = re.search(r"\bFROM (\w+)", outer)
        return f"SELECT FROM {table.group(1)}" if table else "SELECT"
    return match.group(1)


async def run(buyers: int, url: str, folder: Path) -> Statements:
    app = await conversation_app(buyers, url, folder, warm_up=WARM_UP)
    seen: Statements = {number: Counter() for number in range(len(STEPS))}
    current: Counter[str] | None = None

    def statement(*args: Any) -> None:
        if current is not None:
            current[_head(args[2])] += 1

    def begin(_: Any) -> None:
        if current is not None:
            current["BEGIN"] += 1

    def commit(_: Any) -> None:
        if current is not None:
            current["COMMIT"] += 1

    sync_engine = app.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", statement)
    event.listen(sync_engine, "begin", begin)
    event.listen(sync_engine, "commit", commit)
    step = 0

    async def counted(incoming: Incoming) -> Outcome:
        nonlocal step, current
        current = seen[step % len(STEPS)]
        try:
            return await app.engine.process(incoming)
        finally:
            current = None
            step += 1

    await every_buyer(counted, buyers)
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
