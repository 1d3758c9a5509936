"""Fixtures: a real database (SQLite and PostgreSQL), a fake clock, and the sandboxed desk.

Every test that takes `db` (directly or through `desk`) runs once per backend named in
--backends (default: both). PostgreSQL comes from RETURNDESK_TEST_POSTGRES_URL (default: the
local server at 127.0.0.1:5432, database "test"); each run works in a schema of its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import FakeClock
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import Base
from bot.testing.ozon import FakeOzon
from bot.testing.telegram import Mode
from tests.desk import Desk

POSTGRES_URL = os.environ.get(
    "RETURNDESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# The tests' link secret (docs/claiming.md): every app a test builds signs and checks with it.
LINK_SECRET = "test-link-secret-0123456789abcdef0123456789"
os.environ.setdefault("RETURNDESK_LINK_SECRET", LINK_SECRET)
# No web server (the shop API, health, metrics) at the default 127.0.0.1:8080 from the
# `returndesk run` the tests start (many at once, and beside whatever else this machine runs): a
# test that wants one names a free port.
os.environ.setdefault("RETURNDESK_HTTP_PORT", "0")
# Monday 16 November 2026, 09:00 in Moscow, 07:00 in Berlin, 14:00 in Shanghai.
START = datetime.fromisoformat("2026-11-16T06:00:00+00:00")


CHANNELS = "engine,aiogram-polling,aiogram-webhook,ptb-polling,ptb-webhook"
# Without --full-matrix, each Telegram channel runs on one database (the engine channel runs on
# both): every channel and every database is covered, in half the time.
PAIRS = {
    ("aiogram-polling", "sqlite"),
    ("ptb-webhook", "sqlite"),
    ("aiogram-webhook", "postgresql"),
    ("ptb-polling", "postgresql"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated databases to run database tests on: sqlite, postgresql",
    )
    parser.addoption(
        "--full-matrix",
        action="store_true",
        help="run every Telegram channel on every database (default: each on one)",
    )
    parser.addoption(
        "--channels",
        default=CHANNELS,
        help="comma-separated ways the conversation tests reach the bot: engine (directly), "
        "aiogram-polling, aiogram-webhook, ptb-polling, ptb-webhook",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full-matrix"):
        return
    backends = _listed(config, "--backends")
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        channel = params.params.get("channel") if params else None
        backend = params.params.get("backend") if params else None
        paired = {b for c, b in PAIRS if c == channel} & set(backends)
        # A pair whose database was not asked for falls back to whichever was.
        if channel in (None, "engine") or not paired or backend in paired:
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _listed(config: pytest.Config, option: str) -> list[str]:
    return [item.strip() for item in config.getoption(option).split(",") if item.strip()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _listed(metafunc.config, "--backends"), scope="session")
    if "channel" in metafunc.fixturenames:
        # The conversation tests run through every channel; other tests that use the desk
        # (and conversation tests about the engine itself) drive the engine directly.
        conversation = "conversations" in metafunc.definition.path.parts
        engine_only = metafunc.definition.get_closest_marker("engine_only") is not None
        channels = (
            _listed(metafunc.config, "--channels") if conversation and not engine_only else []
        )
        metafunc.parametrize("channel", channels or ["engine"])


@pytest.fixture(scope="session")
def migrated(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run: a template file (SQLite) or a schema (PostgreSQL)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        asyncio.run(_upgrade(db))
        yield str(path)
        return
    if backend != "postgresql":
        raise pytest.UsageError(f"unknown backend {backend!r}")
    schema = f"rd_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_sql(f'CREATE SCHEMA "{schema}"'))
    except OSError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error}). Start it, set "
            "RETURNDESK_TEST_POSTGRES_URL, or run with --backends sqlite.",
            returncode=3,
        )
    asyncio.run(_upgrade(Database(POSTGRES_URL, schema=schema)))
    yield schema
    asyncio.run(_sql(f'DROP SCHEMA "{schema}" CASCADE'))


async def _upgrade(db: Database) -> None:
    await db.upgrade()
    await db.dispose()


async def _sql(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture
async def db(backend: str, migrated: str, tmp_path: Path) -> AsyncIterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "returndesk.db"
        shutil.copyfile(migrated, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
    else:
        database = Database(POSTGRES_URL, schema=migrated)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def desk(db: Database, clock: FakeClock, tmp_path: Path, channel: str) -> AsyncIterator[Desk]:
    if channel == "engine":
        desk = await Desk.open(db, clock, tmp_path)
        yield desk
        await desk.close()
        return
    async with Desk.on_telegram(db, clock, tmp_path, Mode.parse(channel)) as desk:
        yield desk


@pytest.fixture
async def fake_ozon() -> AsyncIterator[FakeOzon]:
    """A fake Ozon Seller API on loopback (bot/testing/ozon), stopped after the test."""
    server = FakeOzon()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, for the run (tests/media_servers.py)."""
    from tests.media_servers import s3_server  # botocore and moto: loaded when a test wants S3

    with s3_server() as server:
        yield server.endpoint


@pytest.fixture(params=["local", "database", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, db: Database
) -> AsyncIterator[MediaStore]:
    """A media store of each kind (docs/operations.md, "Media"): the folder media/ of the
    test's own, the test's database, or a bucket of its own on moto's server. A test takes
    fewer with `@pytest.mark.parametrize("store", [...], indirect=True)`."""
    kind = request.param
    made: MediaStore
    if kind == "local":
        made = LocalMediaStore(tmp_path / "media")
    elif kind == "database":
        made = DatabaseMediaStore(db)
    else:
        from tests.media_servers import new_bucket

        made = await new_bucket(request.getfixturevalue("s3_endpoint"))
    yield made
    await made.close()
