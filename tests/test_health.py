"""/healthz, /readyz and /metrics on a running bot (docs/operations.md#health): readiness flips
when the database goes away, when its migrations are behind and when the outbox is stuck, and
the metrics count a scripted conversation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.enums import PromiseState
from bot.runtime import health
from bot.runtime.http_server import Listen, serving, web_app
from bot.storage.database import Database
from bot.storage.models import OutboxMessage, Promise, Refund, TranscriptEntry
from bot.telemetry.metrics import Metrics
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, free_port, running_bot
from tests.conftest import POSTGRES_URL
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import TEST_SHOP, Desk

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


def scraped(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]


async def until(probe: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Ask `probe` again until it answers something true (a pool notices a dead connection on
    its first use)."""
    answer = None
    for _ in range(int(seconds / 0.1)):
        answer = await probe()
        if answer:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"never true; last answer {answer!r}")


@asynccontextmanager
async def served(db: Database, clock: FakeClock) -> AsyncIterator[str]:
    """The health server alone, on `db`, with no Telegram to ask."""
    readiness = health.Readiness(
        db=db, clock=clock, telegram=None, outbox_max_age=300, telegram_every=30
    )
    routes = [lambda app: health.add_routes(app, readiness, Metrics())]
    async with serving(web_app(routes), Listen("127.0.0.1", 0)) as port:
        yield f"http://127.0.0.1:{port}"


async def test_the_database_dropped_then_recreated_empty_then_migrated(
    tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest
) -> None:
    """While polling, on the bot's own small server: a real PostgreSQL database of its own is
    dropped under the running bot, then made again, empty, then migrated. (An open SQLite
    connection keeps reading a file that is deleted or overwritten, so SQLite cannot be taken
    away from a running process this way.)"""
    if "postgresql" not in request.config.getoption("--backends"):
        pytest.skip("needs PostgreSQL (--backends postgresql)")
    name = f"rd_health_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    async def sql(statement: str) -> None:
        async with admin.connect() as connection:
            await connection.execute(text(statement))

    try:
        await sql(f'CREATE DATABASE "{name}"')
    except OSError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    app = await build_app(database_url=url, config=TEST_SHOP, clock=clock)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        async with (
            FakeBotAPI() as server,
            running_bot(
                app,
                server,
                Mode("aiogram", webhook=False),
                media_dir=tmp_path / "media",
                http=Listen("127.0.0.1", port),
            ),
        ):
            assert await get(f"{base}/healthz") == (200, {"status": "alive"})
            status, body = await get(f"{base}/readyz")
            assert status == 200, body
            assert body["ready"] is True
            assert set(body["checks"]) == {"database", "migrations", "telegram", "outbox"}
            assert all(check["ok"] for check in body["checks"].values())

            await sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            status, body = await get(f"{base}/readyz")
            assert status == 503
            assert body["ready"] is False
            assert body["checks"]["database"]["ok"] is False
            assert body["checks"]["telegram"]["ok"] is True  # only the database is away
            assert await get(f"{base}/healthz") == (200, {"status": "alive"})  # still alive
            status, metrics = await get(f"{base}/metrics")
            assert status == 200
            assert value(scraped(metrics), "returndesk_database_up") == 0

            await sql(f'CREATE DATABASE "{name}"')  # back, but empty

            async def answers() -> Any:
                _, body = await get(f"{base}/readyz")
                return body if body["checks"]["database"]["ok"] else None

            body = await until(answers)
            assert body["ready"] is False
            assert body["checks"]["migrations"]["ok"] is False
            assert "0001" in body["checks"]["migrations"]["detail"]

            await app.db.upgrade()
            status, body = await get(f"{base}/readyz")
            assert status == 200, body
    finally:
        await app.close()
        await sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


async def test_migrations_behind_make_the_bot_not_ready(db: Database, clock: FakeClock) -> None:
    async with served(db, clock) as base:
        assert (await get(f"{base}/readyz"))[0] == 200
        [latest] = await _revisions(db)
        older = await _older(db, latest)
        await _set_revision(db, older)
        try:
            status, body = await get(f"{base}/readyz")
        finally:
            await _set_revision(db, latest)  # the schema is shared by the run's tests
        assert status == 503
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["migrations"] == {
            "ok": False,
            "detail": f"not applied: {latest} (returndesk db upgrade)",
        }
        assert (await get(f"{base}/readyz"))[0] == 200


async def _set_revision(db: Database, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision}
        )


async def _revisions(db: Database) -> list[str]:
    async with db.engine.connect() as connection:
        return list(
            (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars()
        )


async def _older(db: Database, revision: str) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.storage.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    down = ScriptDirectory.from_config(config).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


async def test_a_reply_owed_too_long_makes_the_bot_not_ready(
    db: Database, clock: FakeClock
) -> None:
    async with served(db, clock) as base:
        async with db.unit() as tx:
            tx.session.add(
                OutboxMessage(
                    chat_id=101,
                    text="owed",
                    status="pending",
                    attempts=0,
                    next_attempt_at=clock.now(),
                    created_at=clock.now(),
                )
            )
        clock.advance(timedelta(seconds=299))
        status, body = await get(f"{base}/readyz")
        assert status == 200, body
        assert body["checks"]["outbox"] == {"ok": True, "detail": "1 owed, the oldest 299s old"}

        clock.advance(timedelta(seconds=2))
        status, body = await get(f"{base}/readyz")
        assert status == 503
        assert body["checks"]["outbox"]["ok"] is False
        assert "301s old" in body["checks"]["outbox"]["detail"]
        assert "RETURNDESK_HEALTH_OUTBOX_MAX_AGE" in body["checks"]["outbox"]["detail"]

        samples = scraped((await get(f"{base}/metrics"))[1])
        assert value(samples, "returndesk_outbox_depth") == 1
        assert value(samples, "returndesk_outbox_oldest_age_seconds") == 301
        assert value(samples, "returndesk_database_up") == 1


async def test_metrics_count_a_scripted_conversation(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    """Through the webhook (the routes are on its server): a refund agreed and sent, then a
    seller who never answers, reminded and then breached by the sweeper."""
    async with Desk.on_telegram(db, clock, tmp_path, Mode("aiogram", webhook=True)) as desk:
        server = desk.telegram.server
        anna, dora = desk.buyer("anna"), desk.staff("dora")
        await describe_defect(desk, price="2000")
        await anna.click("Accept")
        await dora.click("Refund of RUB600.00 sent")
        await describe_defect(desk, buyer="mallory", price="5000")  # waits for the seller
        desk.later(hours=18)
        first = await desk.sweep()
        desk.later(hours=6)
        second = await desk.sweep()
        assert (first.reminded, second.breached) == (1, 1)
        await desk.telegram.settled()

        assert server.updates.webhook is not None
        base = server.updates.webhook.url.removesuffix("/telegram/webhook")
        status, exposition = await get(f"{base}/metrics")
        assert status == 200
        samples = scraped(exposition)

        async with db.session() as session:
            incoming = await session.scalar(
                select(func.count())
                .select_from(TranscriptEntry)
                .where(TranscriptEntry.direction == "in", TranscriptEntry.update_key.like("tg:%"))
            )
            outgoing = await session.scalar(
                select(func.count())
                .select_from(TranscriptEntry)
                .where(TranscriptEntry.direction == "out")
            )
            open_promises = await session.scalar(
                select(func.count()).select_from(Promise).where(Promise.state == PromiseState.OPEN)
            )
            [refund] = (await session.execute(select(Refund))).scalars()

    updates = {
        outcome: value(samples, "returndesk_updates_total", outcome=outcome, origin="telegram")
        for outcome in ("applied", "refused", "failed", "duplicate")
    }
    # Every update Telegram posted was applied once; nothing failed or came twice.
    assert updates["applied"] == incoming == len(server.updates.delivery_status) > 10
    assert updates["refused"] == updates["failed"] == updates["duplicate"] == 0
    assert value(samples, "returndesk_update_seconds_count", origin="telegram") == incoming
    # The first sweep also settles October's monthly reports (empty months: nothing sent).
    swept = sum(
        s.reminded + s.breached + s.surveyed + s.delivered + s.reported for s in (first, second)
    )
    assert value(samples, "returndesk_updates_total", outcome="applied", origin="bot") == swept
    assert value(samples, "returndesk_promises_reminded_total") == 1
    assert value(samples, "returndesk_promises_breached_total") == 1
    assert value(samples, "returndesk_messages_sent_total") == outgoing > 10
    assert value(samples, "returndesk_telegram_429_total") == server.responses_429 == 0
    assert value(samples, "returndesk_outbox_depth") == 0
    assert value(samples, "returndesk_outbox_oldest_age_seconds") == 0
    assert value(samples, "returndesk_promises_open") == open_promises > 0
    assert refund.executed_at is not None
    assert value(samples, "returndesk_refunds_approved_total") == 1
    assert value(samples, "returndesk_refunds_executed_total") == 1
    assert value(samples, "returndesk_updates_dead_lettered_total") == 0
    assert value(samples, "returndesk_dead_letters") == 0
    names = {name for name, _ in samples}
    assert all(name.startswith("returndesk_") for name in names)
