"""A running bot's garbage collector (bot/runtime/heap.py): what start-up built is frozen, and
the young generation is collected less often than Python's default; in a process of its own,
since both are settings of the whole interpreter."""

from __future__ import annotations

import subprocess
import sys

from bot.runtime import heap

_SETTLE = """
import gc
from bot.runtime import heap
older = gc.get_threshold()[1:]
heap.settle()
print(gc.get_threshold()[0], gc.get_threshold()[1:] == older, gc.get_freeze_count() > 0)
"""


def test_settling_freezes_start_up_and_collects_the_young_less_often() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SETTLE], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [str(heap.YOUNG), "True", "True"]
    assert heap.YOUNG > 700  # Python's default
