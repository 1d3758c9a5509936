"""`returndesk run` with its garbage collections timed, from the buyers' start on.

    python -m benchmarks.gc_timed OUTPUT.gc

conversation.py (`--profile OUTPUT.gc`) sends SIGUSR1 as its buyers begin; from then on each
collection's CPU time is added up by generation, and the totals are written to OUTPUT.gc when
the bot stops, beside the process's CPU time in the same window.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bot.cli import main as returndesk


class Collections:
    def __init__(self) -> None:
        self.counting = False
        self.started = 0.0  # the process's CPU time when counting began
        self.began = 0.0  # ... and when the collection under way began
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]

    def start(self, *_: Any) -> None:
        self.counting, self.started = True, time.process_time()

    def observe(self, phase: str, info: dict[str, int]) -> None:
        if not self.counting:
            return
        if phase == "start":
            self.began = time.process_time()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.process_time() - self.began
            self.count[generation] += 1

    def report(self) -> str:
        spent = time.process_time() - self.started if self.counting else 0.0
        lines = [f"process CPU since the buyers began: {spent:.3f} s"]
        for generation in range(3):
            lines.append(
                f"generation {generation}: {self.count[generation]} collections, "
                f"{self.seconds[generation]:.3f} s"
            )
        share = sum(self.seconds) / spent if spent else 0.0
        lines.append(f"all collections: {sum(self.seconds):.3f} s, {share:.1%} of the CPU")
        return "\n".join(lines) + "\n"


def run(output: str) -> None:
    collections = Collections()
    gc.callbacks.append(collections.observe)
    signal.signal(signal.SIGUSR1, collections.start)
    sys.argv = ["returndesk", "run"]
    try:
        returndesk()
    finally:
        Path(output).write_text(collections.report())


if __name__ == "__main__":
    run(sys.argv[1])
