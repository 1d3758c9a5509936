"""SQLite for the async engine, called on the event loop's own thread (private: `Database` uses
it for a database file; tests/test_sqlite_driver.py fails if what SQLAlchemy's aiosqlite adapter
asks of it changes).

aiosqlite runs each call (cursor, execute, fetch, close) in a worker thread and wakes the loop
when it is done: four thread hand-offs a statement, which cost far more CPU than the statement
(a few microseconds on a local file). A ReturnDesk update makes a dozen small statements, so
the hand-offs were most of its SQLite time. Here the same aiosqlite-shaped API, which
SQLAlchemy's aiosqlite dialect drives, calls sqlite3 directly.

Transactions begin with BEGIN IMMEDIATE, issued here before the first statement after a commit
or rollback. SQLite takes its write lock at the first write by default, so two transactions that
both read then write deadlock into "database is locked"; taking the lock at the start makes them
queue instead, which is what a per-update transaction wants.

What could block the loop is SQLite's busy handler, waiting for another process's write lock.
So the busy timeout is zero and a busy BEGIN IMMEDIATE is retried after an asyncio sleep
instead. Once a transaction holds the write lock, no statement in it can meet a busy database
(WAL mode). Commits do not sync to disk in WAL mode with synchronous=NORMAL, so they are quick
too.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# How long a transaction may wait for another process's write lock, like sqlite3's `timeout`.
BUSY_PATIENCE = 30.0
# Each connection's: write-ahead log, so readers never wait for the writer; foreign keys on.
SETTINGS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL")
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05


class InlineCursor:
    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        await self._connection.patiently(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        await self._connection.patiently(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def _tx(self) -> _RunNow:
        # SQLAlchemy's aiosqlite adapter sets the isolation level by queueing a call for
        # aiosqlite's thread; there is no thread here, so the call runs at once.
        return _RunNow()

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def patiently(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run `call` in a transaction, beginning one if none is open; while another process
        holds the write lock, wait for it without blocking the loop."""
        connection = self._conn
        if connection.in_transaction:
            return call(*args)
        pause, deadline = _FIRST_PAUSE, time.monotonic() + BUSY_PATIENCE
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
        return call(*args)


class _RunNow:
    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the caller through the future
            future.set_exception(error)


def connector(path: str, uri: bool = False) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: opens `path` with SETTINGS, in sqlite3's
    autocommit mode (transactions are begun by InlineConnection) and with no busy timeout
    (see the module's note)."""

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(
            path, uri=uri, timeout=0, isolation_level=None, check_same_thread=False
        )
        for setting in SETTINGS:
            connection.execute(setting)
        return InlineConnection(connection)

    return connect
