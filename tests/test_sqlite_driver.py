"""SQLite on the event loop's thread: another writer makes a transaction wait, not the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, func, insert, select

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
