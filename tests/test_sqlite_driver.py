"""SQLite on the event loop's thread: another writer makes a transaction wait, not the loop."""

from __future__ import annotations

import asyncio
import inspect
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, func, insert, select
from sqlalchemy.connectors import asyncio as asyncio_connector
from sqlalchemy.dialects.sqlite import aiosqlite as aiosqlite_dialect

from bot.storage import _sqlite_driver
from bot.storage.database import Database

metadata = MetaData()
notes = Table("notes", metadata, Column("id", BigInteger, primary_key=True))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def other_writer(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own, as another process (a cron `returndesk sweep`) would hold."""
    connection = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    yield connection
    connection.close()


async def _count(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(notes)) or 0)


async def test_a_transaction_waits_for_another_writer_while_the_loop_runs_on(
    db: Database, other_writer: sqlite3.Connection
) -> None:
    other_writer.execute("BEGIN IMMEDIATE")
    other_writer.execute("INSERT INTO notes (id) VALUES (1)")

    async def write() -> None:
        async with db.transaction() as session:
            await session.execute(insert(notes).values(id=2))

    writing = asyncio.create_task(write())
    ticks = 0
    for _ in range(20):  # 0.2 s in which the loop must keep serving other work
        await asyncio.sleep(0.01)
        ticks += 1
    assert not writing.done()
    assert ticks == 20
    other_writer.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    assert await _count(db) == 2  # both writes kept


async def test_sqlite_itself_never_sleeps_on_the_loops_thread(db: Database) -> None:
    # A busy handler would wait inside sqlite3, holding the loop; the driver waits in asyncio.
    async with db.engine.connect() as connection:
        timeout = await connection.exec_driver_sql("PRAGMA busy_timeout")
        assert timeout.scalar() == 0


async def test_a_writer_that_never_lets_go_ends_in_a_clear_error(
    db: Database, other_writer: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_driver, "BUSY_PATIENCE", 0.2)
    other_writer.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with db.transaction() as session:
            await session.execute(insert(notes).values(id=1))

    with pytest.raises(Exception, match="database is locked"):
        await write()
    other_writer.execute("ROLLBACK")
    await write()  # the database works again once it is free
    assert await _count(db) == 1


async def test_a_failed_statement_rolls_back_its_transaction_and_nothing_else(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await session.execute(insert(notes).values(id=1))

    async def two_writes_the_second_clashing() -> None:
        async with db.transaction() as session:
            await session.execute(insert(notes).values(id=2))
            await session.execute(insert(notes).values(id=1))

    with pytest.raises(Exception, match="UNIQUE"):
        await two_writes_the_second_clashing()
    assert await _count(db) == 1


# -- the SQLAlchemy internals the driver relies on ----------------------------------------------
# What SQLAlchemy's aiosqlite adapter asks of the connection and its cursors, read from its
# source: `_sqlite_driver` stands in for aiosqlite, so a name SQLAlchemy starts to use (or stops
# using) must be looked at here before the pin in pyproject.toml moves.
_ASKED_OF_THE_CONNECTION = {
    "_conn",  # the sqlite3 connection, to set the isolation level on
    "_connection",  # whether it is still open
    "_tx",  # aiosqlite's queue of calls for its thread; here they run at once
    "close",
    "commit",
    "create_function",
    "isolation_level",
    "rollback",
    "stop",
}
_ASKED_OF_A_CURSOR = {
    "arraysize",
    "close",
    "description",
    "execute",
    "executemany",
    "fetchall",
    "fetchmany",
    "fetchone",
    "lastrowid",
    "nextset",
    "rowcount",
}
# Named by SQLAlchemy's generic adapter but never called for SQLite: setinputsizes is
# aioodbc's, and iterating is for server-side cursors, which SQLite has not.
_NEVER_ASKED_OF_SQLITE = {"setinputsizes", "__aiter__"}


def _asked(module: ModuleType, of: str) -> set[str]:
    return set(re.findall(rf"self\.{of}\.(\w+)", inspect.getsource(module)))


def test_the_driver_offers_what_sqlalchemys_aiosqlite_adapter_asks_for() -> None:
    connection = _asked(aiosqlite_dialect, "_connection") | _asked(asyncio_connector, "_connection")
    cursor = _asked(asyncio_connector, "_cursor")
    assert connection == _ASKED_OF_THE_CONNECTION
    assert cursor == _ASKED_OF_A_CURSOR | _NEVER_ASKED_OF_SQLITE
    inline = _sqlite_driver.InlineConnection(sqlite3.connect(":memory:"))
    try:
        for name in _ASKED_OF_THE_CONNECTION:
            assert hasattr(inline, name), name
        for name in _ASKED_OF_A_CURSOR:
            assert hasattr(inline.cursor(), name), name
    finally:
        inline.stop()


def test_the_isolation_level_is_set_through_aiosqlites_queue_as_the_driver_expects() -> None:
    """The adapter sets the isolation level by putting (future, call) on `_connection._tx`;
    the driver runs the call at once."""
    setter = inspect.getsource(aiosqlite_dialect.AsyncAdapt_aiosqlite_connection)
    assert "self._connection._tx.put_nowait((future, function))" in setter
