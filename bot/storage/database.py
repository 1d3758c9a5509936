"""Engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from bot.storage import _held, _one_greenlet, _sqlite_driver
from bot.storage.transaction import Transaction

P = ParamSpec("P")
T = TypeVar("T")


class _Session(Session):
    """ReturnDesk's sessions: they make their held writes (bot/storage/_held.py) as they commit."""


_held.hold_until_commit(_Session)


def unit_of_work(
    function: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Run a coroutine function's database work in one greenlet rather than one a call
    (bot/storage/_one_greenlet.py): for the hot paths (an update, a claim of the outbox, a
    batch of the inbox). It behaves the same without the patch `Database` installs, only
    slower."""
    return _one_greenlet.one_greenlet(function)


MIGRATIONS = Path(__file__).parent / "migrations"
IDLE_SESSIONS = 256  # closed sessions kept for reuse, at most


class DatabaseURLError(ValueError):
    """A database URL ReturnDesk cannot use; the message says what to write instead."""


def usable_url(url: str) -> URL:
    """The URL with its async driver: `postgresql://` and `postgres://` mean asyncpg and
    `sqlite://` aiosqlite, as users write them; anything else is a DatabaseURLError."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseURLError(f"not a database URL; {_EXAMPLES}") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    raise DatabaseURLError(f"{parsed.drivername} is not supported; {_EXAMPLES}")


_EXAMPLES = "use sqlite+aiosqlite:///returndesk.db or postgresql+asyncpg://user@host/database"


class Database:
    """Owns the engine. One update is one session and one transaction (see bot.engine)."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = usable_url(url)
        self.schema = schema
        # SQLAlchemy's asyncio layer, patched for every engine of the process; guarded by
        # tests/test_one_greenlet.py against the internals it relies on moving.
        _one_greenlet.install()
        kwargs: dict[str, Any] = {"echo": echo}
        inline = self.is_sqlite and self.url.database not in (None, "", ":memory:")
        if inline:
            # The driver sets the connection up and begins transactions itself: an engine with
            # event listeners runs them through SQLAlchemy's event machinery on every
            # statement, at a cost the engine's path measurably pays.
            kwargs["async_creator"] = _sqlite_driver.connector(
                str(self.url.database), uri=self.url.query.get("uri") == "true"
            )
        elif self.is_sqlite:
            kwargs["connect_args"] = {"timeout": _sqlite_driver.BUSY_PATIENCE}
        else:
            # No ping before each checkout: it costs three round trips a transaction (asyncpg
            # pings inside a transaction of its own). A connection that died with a restart
            # of the server fails its first statement instead; SQLAlchemy then lets go of the
            # whole pool, and the engine and the sender try once more.
            kwargs["pool_pre_ping"] = False
            # A fixed pool: overflow connections are closed as soon as they are given back,
            # and each new one costs a connect, its type set-up and a prepare of every
            # statement it runs. Ten transactions in flight keep one process's core busy;
            # the rest wait their turn for a connection.
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 0
            kwargs["connect_args"] = {"server_settings": _server_settings(schema)}
        # The connection given back last is taken first: what a connection keeps is still
        # good for the next transaction. A SQLite connection's page cache is thrown away when
        # another connection has written since; handed out in turn, every transaction began
        # with a cold cache and read some 35 pages back from the file (36 read calls an
        # update in the conversation benchmark, 1.5 this way). A PostgreSQL connection keeps
        # the statements it prepared and their plans.
        kwargs["pool_use_lifo"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite and not inline:
            _sqlite_immediate_transactions(self.engine)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_Session
        )
        self._writer: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        )
        self._idle: list[AsyncSession] = []  # closed sessions, to use again

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def session(self) -> AsyncSession:
        """A session for reading; `transaction()` for a unit of work."""
        return self.sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed when the block ends (rolled back if it raises).
        `Transaction.of(session)` (bot.storage.transaction) holds its deferred writes, its cache
        and its locks; `unit()` gives that Transaction, which services take.

        On SQLite this process's transactions also take turns on an asyncio lock: SQLite has one
        writer, and a transaction that finds the file locked sleeps in its busy handler (up to
        100 ms a try), which under load costs far more than waiting in line.

        Sessions are used again once closed (a closed session holds nothing): a new one builds
        its own table of event listeners, a few percent of an update's CPU."""
        async with self._writer:
            session = self._idle.pop() if self._idle else self.sessions()
            try:
                async with session.begin():
                    yield session
            finally:
                await session.close()
                session.info.clear()  # what services noted for this transaction only
                if len(self._idle) < IDLE_SESSIONS:
                    self._idle.append(session)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Transaction]:
        """A unit of work as services take it: `transaction()`'s session in its Transaction,
        committed when the block ends (rolled back if it raises)."""
        async with self.transaction() as session:
            yield Transaction.of(session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        """A Transaction for reading through services, on `session()`: nothing is committed."""
        async with self.session() as session:
            yield Transaction.of(session)

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_sync)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def migrations_missing(self) -> list[str]:
        """The migrations this code has and the database has not applied, as their revisions
        (none: the schema is current). A database at a revision this code does not know (a
        newer release migrated it) counts as current: it is not behind."""
        async with self.engine.connect() as connection:
            applied = await connection.run_sync(_applied_revisions)
        return _missing(applied)


def _server_settings(schema: str | None = None) -> dict[str, str]:
    """What each PostgreSQL connection sets for its session.

    `plan_cache_mode`: asyncpg prepares every statement once a connection, and PostgreSQL plans
    a prepared statement anew for each of its first five runs before it settles on one generic
    plan; every statement ReturnDesk makes settles on the generic plan (pg_prepared_statements
    shows it), so the five plannings a statement and connection are work thrown away: with ten
    connections and some thirty statements, 1,500 plannings after each start, about one an
    update for the benchmark's 1,600."""
    settings = {
        "plan_cache_mode": "force_generic_plan",
        "application_name": application_name(schema),
    }
    if schema:
        settings["search_path"] = schema
    return settings


def application_name(schema: str | None = None) -> str:
    """How this process's connections show in pg_stat_activity: an operator (or a test that
    must touch only its own connections) tells ReturnDesk's apart, and one schema's from
    another's. PostgreSQL keeps 63 bytes of it."""
    return f"returndesk:{schema}"[:63] if schema else "returndesk"


def _upgrade_sync(connection: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _applied_revisions(connection: Any) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


@functools.cache
def _scripts() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _missing(applied: set[str]) -> list[str]:
    scripts = _scripts()
    known = {script.revision for script in scripts.walk_revisions()}
    if applied - known:
        return []
    done: set[str] = set()
    for revision in applied:
        done.update(script.revision for script in scripts.iterate_revisions(revision, "base"))
    return sorted(known - done)


def _sqlite_immediate_transactions(engine: AsyncEngine) -> None:
    """What bot/storage/_sqlite_driver.py does for a database file, for an in-memory one (which
    runs on aiosqlite): its settings, and transactions that begin with BEGIN IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        for setting in _sqlite_driver.SETTINGS:
            cursor.execute(setting)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
