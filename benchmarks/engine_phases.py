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
import itertools
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from benchmarks.conversation import FIRST_BUYER, database_url, orders_for
from bot.app import App, build_app
from bot.clock import FakeClock
from bot.engine import processor
from bot.engine.events import Incoming, Outcome, Photo, Sender
from bot.engine.router import Router
from bot.rendering import Renderer
from bot.services import cases
from bot.services.importer import import_orders
from bot.storage.stores import chat_state

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


async def converse(process: Callable[[Incoming], Awaitable[Outcome]], user_id: int) -> None:
    keys = itertools.count(1)
    sender = Sender(user_id, "Buyer", "en")

    def event(**parts: Any) -> Incoming:
        return Incoming(
            key=f"{user_id}:{next(keys)}", sender=sender, chat_id=user_id, is_private=True, **parts
        )

    outcome = await process(event(text="/start"))
    for step in range(7):
        if step == 4:
            photo = Photo(file_id=f"p{user_id}", file_unique_id=f"u{user_id}", size=80_000)
            outcome = await process(event(photos=(photo,)))
            continue
        [reply] = [r for r in outcome.replies if r.chat_id == user_id][-1:]
        outcome = await process(event(payload=reply.buttons[0][0].payload, callback_id="cb"))
    if not any("Agreed" in reply.text for reply in outcome.replies):
        raise RuntimeError(f"buyer {user_id} did not reach an agreement: {outcome}")


async def conversation_app(buyers: int, url: str, folder: Path, *, warm_up: int = 0) -> App:
    """An app on `url` with orders for `buyers` conversations (buyers FIRST_BUYER on), after
    `warm_up` conversations of other buyers, so templates are compiled and caches are full."""
    clock = FakeClock(datetime(2026, 11, 21, 9, tzinfo=UTC))
    app = await build_app(database_url=url, clock=clock)
    (folder / "orders.json").write_text(json.dumps(orders_for(buyers + warm_up)))
    async with app.db.transaction() as session:
        await import_orders(session, folder / "orders.json", shop=app.shop, now=clock.now())
    for n in range(warm_up):
        await converse(app.engine.process, FIRST_BUYER + buyers + n)
    return app


async def every_buyer(process: Callable[[Incoming], Awaitable[Outcome]], buyers: int) -> None:
    for n in range(buyers):
        await converse(process, FIRST_BUYER + n)


async def run(buyers: int, url: str, folder: Path) -> float:
    app = await conversation_app(buyers, url, folder)
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
