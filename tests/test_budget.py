"""What an update of the benchmark conversation may cost: database statements and Python calls.

Telegram caps a bot at about 30 messages a second and the engine handles many times that on one
core, so performance is guarded here rather than chased: a change that makes an update run more
statements, or many more Python calls, fails this test and has to say why in the budget below.

The conversation and the counting are bot/testing/budget.py, shared with the benchmarks that
print the same counts in detail (benchmarks/engine_statements.py --show, engine_calls.py).
"""

from __future__ import annotations

from pathlib import Path

from bot.storage.database import Database
from bot.testing.budget import STEPS, conversation_app, count_calls, count_statements

# Statements each step of the conversation runs inside Engine.process, BEGIN and COMMIT included,
# by database. Today's counts: a step may run fewer, never more. When a change needs more (or
# saves some), run `python -m benchmarks.engine_statements --show [--database postgresql]`, see
# which statements changed, and write the new counts here with the reason in the commit message.
STATEMENTS = {
    "sqlite": (7, 7, 10, 8, 11, 8, 13, 14),
    "postgresql": (6, 5, 7, 5, 7, 6, 9, 8),
}

# Python calls a whole conversation makes inside Engine.process (all eight updates), by
# database, as cProfile counts them. Library upgrades move this by a few per cent either way,
# so only growth beyond CALLS_MARGIN fails. To update: `python -m benchmarks.engine_calls
# [--database postgresql]` prints the calls of each step; their sum is the number here.
CALLS = {
    "sqlite": 21_209,
    "postgresql": 22_240,
}
CALLS_MARGIN = 0.15

BUYERS = 2  # conversations counted; each one costs the same


async def test_each_step_runs_no_more_statements_than_its_budget(
    db: Database, backend: str, tmp_path: Path
) -> None:
    app = await conversation_app(BUYERS, tmp_path, db=db, warm_up=1)
    seen = await count_statements(app, BUYERS)

    counts = tuple(sum(seen[step].values()) / BUYERS for step in range(len(STEPS)))
    over = {
        f"step {step + 1} ({STEPS[step]})": {
            head: n / BUYERS for head, n in seen[step].most_common()
        }
        for step, (count, budget) in enumerate(zip(counts, STATEMENTS[backend], strict=True))
        if count > budget
    }
    assert not over, (
        f"{backend}: statements per step {counts}, budget {STATEMENTS[backend]}: {over}"
    )


async def test_a_conversation_makes_no_more_python_calls_than_its_budget(
    db: Database, backend: str, tmp_path: Path
) -> None:
    app = await conversation_app(BUYERS, tmp_path, db=db, warm_up=3)
    calls = await count_calls(app, BUYERS)

    per_conversation = sum(calls.values()) // BUYERS
    steps = [calls[step] // BUYERS for step in range(len(STEPS))]
    limit = CALLS[backend] * (1 + CALLS_MARGIN)
    assert per_conversation <= limit, (
        f"{backend}: {per_conversation} calls a conversation (by step: {steps}), "
        f"budget {CALLS[backend]} + {CALLS_MARGIN:.0%}"
    )
