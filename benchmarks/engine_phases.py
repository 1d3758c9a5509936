"""Where an update's CPU goes inside the engine, without Telegram: the benchmark conversation's
updates straight into `Engine.process`, one at a time, with CPU time summed per phase.

    python -m benchmarks.engine_phases --buyers 100 [--database postgresql]

Phases nest (the handler's time includes the case it locks), so they do not add up to the
total. What the total leaves out is the sender and the Telegram client: see conversation.py.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from benchmarks.conversation import database_url
from bot.engine import processor
from bot.engine.router import Router
from bot.rendering import Renderer
from bot.services import cases
from bot.storage.stores import chat_state
from bot.testing.budget import conversation_app, every_buyer

spent: dict[str, float] = defaultdict(float)
T = TypeVar("T")


def _timed(owner: Any, name: str, phase: str) -> None:
    """Replace owner.name with a version that adds its CPU time to `phase`."""
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - started

        setattr(owner, name, timed_async)
    else:

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - started

        setattr(owner, name, timed)


def instrument() -> None:
    _timed(chat_state, "lock", "lock the chat's state and claim the update")
    _timed(chat_state, "save", "save the chat's state (flushes the ORM first)")
    _timed(processor, "identify", "identify the sender")
    _timed(Router, "dispatch", "run the handler")
    _timed(cases, "lock_case", "  lock the case with its order")
    _timed(cases, "evidence_of", "  read the case's photos")
    _timed(Renderer, "render", "  render templates")
    _timed(Renderer, "label", "  render button labels")
    _timed(Session, "_flush", "ORM flushes, wherever they happen")


async def run(buyers: int, url: str, folder: Path) -> float:
    app = await conversation_app(buyers, folder, url=url)
    instrument()
    spent.clear()
    started = time.process_time()
    await every_buyer(app.engine.process, buyers)
    total = time.process_time() - started
    await app.close()
    return total


def run_engine(
    description: str,
    buyers: int,
    run: Callable[[int, str, Path], Coroutine[Any, Any, T]],
    *,
    show: bool = False,
) -> tuple[argparse.Namespace, T]:
    """The command line of an engine-only benchmark: how many buyers, which database (fresh, in
    a folder of its own), and what `run` measured there; `show` offers --show (more detail)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=buyers)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    if show:
        parser.add_argument("--show", action="store_true", help="what each step's statements are")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="returndesk-engine-") as folder:
        url = database_url(options.database, Path(folder), "engine")
        return options, asyncio.run(run(options.buyers, url, Path(folder)))


def main() -> None:
    options, total = run_engine(__doc__ or "", 100, run)
    updates = options.buyers * 8
    print(f"{updates} updates, {options.database}, one at a time, engine only")
    print(f"{'all of Engine.process':<44} {total / updates * 1000:5.2f} ms CPU/update")
    for phase, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{phase:<44} {seconds / updates * 1000:5.2f} ms CPU/update")


if __name__ == "__main__":
    main()
