"""The benchmark conversation inside the engine, and what each of its updates costs.

A buyer walks the partial-refund conversation in eight updates (STEPS), straight into
`Engine.process`, with no Telegram. What an update costs is counted, not timed, so it reads the
same however busy the machine is: the database statements it runs and the Python calls it
makes. The benchmarks print these counts (benchmarks/engine_statements.py, engine_calls.py) and
tests/test_budget.py holds them to a budget.
"""

from __future__ import annotations

import cProfile
import itertools
import json
import pstats
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.engine.events import Author, Incoming, Outcome, Photo
from bot.services.importer import import_orders
from bot.storage.database import Database

STEPS = ("/start", "press", "press", "press", "press", "photo", "press", "press")
FIRST_BUYER = 1_000_000

Process = Callable[[Incoming], Awaitable[Outcome]]
Statements = dict[int, Counter[str]]  # by step: each statement's first words, how often


def orders_for(buyers: int) -> dict[str, Any]:
    """An import file with one delivered order for each of `buyers` buyers, FIRST_BUYER on."""
    return {
        "orders": [
            {
                "marketplace": "ozon",
                "number": f"B-{n}",
                "seller": "lucky-dragon",
                "buyer": {"telegram_id": FIRST_BUYER + n, "name": f"Buyer {n}", "language": "en"},
                "currency": "RUB",
                "paid": "1000",
                "status": "delivered",
                "placed_at": "2026-11-01T10:00:00+03:00",
                "shipped_at": "2026-11-02T10:00:00+03:00",
                "delivered_at": "2026-11-20T10:00:00+03:00",
                "items": [{"sku": "K", "title": "Kettle", "quantity": 1, "unit_price": "1000"}],
            }
            for n in range(buyers)
        ]
    }


async def converse(process: Process, user_id: int) -> None:
    """One buyer's conversation, STEPS in order, pressing each reply's first button."""
    keys = itertools.count(1)
    author = Author(user_id, "Buyer", "en")

    def incoming(**parts: Any) -> Incoming:
        return Incoming(
            key=f"{user_id}:{next(keys)}", author=author, chat_id=user_id, is_private=True, **parts
        )

    outcome = await process(incoming(text="/start"))
    for step in STEPS[1:]:
        if step == "photo":
            photo = Photo(file_id=f"p{user_id}", file_unique_id=f"u{user_id}", size=80_000)
            outcome = await process(incoming(photos=(photo,)))
            continue
        [reply] = [r for r in outcome.replies if r.chat_id == user_id][-1:]
        outcome = await process(incoming(payload=reply.buttons[0][0].payload, callback_id="cb"))
    if not any("Agreed" in reply.text for reply in outcome.replies):
        raise RuntimeError(f"buyer {user_id} did not reach an agreement: {outcome}")


async def conversation_app(
    buyers: int,
    folder: Path,
    *,
    url: str | None = None,
    db: Database | None = None,
    warm_up: int = 0,
) -> App:
    """An app on `url` (or `db`) with orders for `buyers` conversations (buyers FIRST_BUYER on),
    after `warm_up` conversations of other buyers, so templates are compiled and caches are full."""
    clock = FakeClock(datetime(2026, 11, 21, 9, tzinfo=UTC))
    app = await build_app(database_url=url, db=db, clock=clock)
    (folder / "orders.json").write_text(json.dumps(orders_for(buyers + warm_up)))
    async with app.db.unit() as tx:
        await import_orders(tx, folder / "orders.json", shop=app.shop, now=clock.now())
    for n in range(warm_up):
        await converse(app.engine.process, FIRST_BUYER + buyers + n)
    return app


async def every_buyer(process: Process, buyers: int) -> None:
    for n in range(buyers):
        await converse(process, FIRST_BUYER + n)


def statement_head(sql: str) -> str:
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


async def count_statements(app: App, buyers: int) -> Statements:
    """The statements of each step of `buyers` conversations, summed over the buyers.

    BEGIN and COMMIT count as one each, as they are on the wire with asyncpg. Only the engine's
    statements count: the sender's are not made inside `Engine.process`.
    """
    seen: Statements = {number: Counter() for number in range(len(STEPS))}
    current: Counter[str] | None = None

    def statement(*args: Any) -> None:
        if current is not None:
            current[statement_head(args[2])] += 1

    def begin(_: Any) -> None:
        if current is not None:
            current["BEGIN"] += 1

    def commit(_: Any) -> None:
        if current is not None:
            current["COMMIT"] += 1

    listeners = {"before_cursor_execute": statement, "begin": begin, "commit": commit}
    sync_engine = app.db.engine.sync_engine
    for name, listener in listeners.items():
        event.listen(sync_engine, name, listener)
    step = 0

    async def counted(incoming: Incoming) -> Outcome:
        nonlocal step, current
        current = seen[step % len(STEPS)]
        try:
            return await app.engine.process(incoming)
        finally:
            current = None
            step += 1

    try:
        await every_buyer(counted, buyers)
    finally:
        for name, listener in listeners.items():
            event.remove(sync_engine, name, listener)
    return seen


async def count_calls(app: App, buyers: int) -> Counter[int]:
    """The Python calls of each step of `buyers` conversations, summed over the buyers.

    The count includes profiler-visible C calls and each resumption of a coroutine.
    """
    calls: Counter[int] = Counter()
    step = 0

    async def counted(incoming: Incoming) -> Outcome:
        nonlocal step
        profile = cProfile.Profile()
        profile.enable()
        try:
            return await app.engine.process(incoming)
        finally:
            profile.disable()
            calls[step % len(STEPS)] += pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
            step += 1

    await every_buyer(counted, buyers)
    return calls
