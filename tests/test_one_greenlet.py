"""A unit of database work in one greenlet (bot/storage/_one_greenlet.py): every statement runs in
the same greenlet, and the coroutine behaves as it would without it: its result, its
exceptions, waiting on the loop, and being cancelled."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.ext.asyncio
from greenlet import getcurrent  # type: ignore[import-untyped]
from sqlalchemy import event, text
from sqlalchemy.util import concurrency

from bot.storage import _one_greenlet
from bot.storage._one_greenlet import one_greenlet
from bot.storage.database import Database


async def _greenlets_of_three_statements(db: Database) -> int:
    seen: list[Any] = []  # held, so that no two of them can share an id

    def note(*_: Any) -> None:
        seen.append(getcurrent())

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with db.transaction() as session:
            for _ in range(3):
                await session.execute(text("SELECT 1"))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    return len({id(greenlet) for greenlet in seen})


async def test_statements_share_one_greenlet_inside_and_not_outside(db: Database) -> None:
    assert await _greenlets_of_three_statements(db) == 3  # SQLAlchemy's own: one a call
    inside = one_greenlet(_greenlets_of_three_statements)
    assert await inside(db) == 1


async def test_the_result_and_exceptions_come_through() -> None:
    @one_greenlet
    async def answer(n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    @one_greenlet
    async def fail() -> None:
        await asyncio.sleep(0.001)
        raise LookupError("no such order")

    assert await answer(21) == 42
    with pytest.raises(LookupError, match="no such order"):
        await fail()


async def test_an_exception_from_what_it_awaits_reaches_the_coroutine() -> None:
    caught: list[str] = []

    async def broken() -> None:
        await asyncio.sleep(0.001)
        raise ValueError("from below")

    @one_greenlet
    async def handles() -> str:
        try:
            await asyncio.ensure_future(broken())
        except ValueError as error:
            caught.append(str(error))
        return "went on"

    assert await handles() == "went on"
    assert caught == ["from below"]


async def test_a_cancelled_task_is_cancelled_inside_and_cleans_up() -> None:
    cleaned: list[str] = []
    started = asyncio.Event()

    @one_greenlet
    async def waits_long() -> None:
        try:
            started.set()
            await asyncio.sleep(60)
        finally:
            cleaned.append("finally ran")

    task = asyncio.create_task(waits_long())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally ran"]


async def test_a_database_error_inside_rolls_back_and_comes_out(db: Database) -> None:
    @one_greenlet
    async def bad_statement() -> None:
        async with db.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        await bad_statement()
    # The session and its connection are usable again.
    assert await one_greenlet(_greenlets_of_three_statements)(db) == 1


# -- the SQLAlchemy internals the patch relies on ------------------------------------------------


def test_sqlalchemy_starts_its_greenlets_where_the_patch_replaces_them() -> None:
    """Every module of SQLAlchemy's asyncio layer that starts a greenlet does it through its own
    module-level `greenlet_spawn`, the one the patch replaces; a module added or moved, or a
    changed signature, fails here rather than quietly costing a greenlet a call."""
    package = Path(sqlalchemy.ext.asyncio.__file__).parent
    spawning = {
        f"sqlalchemy.ext.asyncio.{path.stem}"
        for path in package.glob("*.py")
        if "greenlet_spawn" in path.read_text(encoding="utf-8")
    }
    assert spawning == {module.__name__ for module in _one_greenlet.PATCHED}
    for module in _one_greenlet.PATCHED:
        assert module.greenlet_spawn in (
            concurrency.greenlet_spawn,
            _one_greenlet._spawn_unless_inside,
        )
    spawn = inspect.signature(concurrency.greenlet_spawn).parameters
    assert "_require_await" in spawn  # what the patch drops when it calls straight through
    assert callable(concurrency.in_greenlet) and callable(concurrency.await_)


def test_importing_the_database_patches_nothing_and_a_database_installs_the_patch(
    tmp_path: Path,
) -> None:
    checked = (
        "import bot.storage.database as database\n"
        "from bot.storage import _one_greenlet\n"
        "assert not _one_greenlet.installed()\n"
        f"database.Database('sqlite+aiosqlite:///{tmp_path / 'new.db'}')\n"
        "assert _one_greenlet.installed()\n"
    )
    subprocess.run([sys.executable, "-c", checked], check=True)
