"""`returndesk run` under cProfile, counting only what the bot does once the buyers start.

    python -m benchmarks.profiled OUTPUT.prof

Start-up (imports, the frameworks' schemas, migrations) would otherwise be a large part of a
short run's profile. conversation.py sends SIGUSR1 as its buyers begin, which turns the profiler
on; the statistics are written to OUTPUT.prof when the bot stops.
"""

from __future__ import annotations

import cProfile
import signal
import sys

from bot.cli import main as returndesk


def run(output: str) -> None:
    profiler = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    sys.argv = ["returndesk", "run"]
    try:
        returndesk()
    finally:
        profiler.disable()
        profiler.dump_stats(output)


if __name__ == "__main__":
    run(sys.argv[1])
