"""`returndesk run --role`: each role starts only its parts, and two senders or two sweepers on
one PostgreSQL database, each with a pool of its own as two processes have, neither send twice
nor act twice (docs/operations.md#roles)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.app import App, build_app
from bot.cli import app as cli
from bot.clock import FakeClock
from bot.config.settings import TelegramSettings
from bot.runtime.telegram.roles import Role
from bot.runtime.telegram.service import SetupError, TelegramService, make_adapter
from bot.storage.database import Database
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import (
    CaseEvent,
    OutboxMessage,
    SenderHeartbeat,
    SupportTopic,
    TranscriptEntry,
)
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import UNLIMITED, WEBHOOK_SECRET, Mode, running_bot
from tests.conftest import POSTGRES_URL
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import TEST_SHOP, Desk
from tests.test_sender import _owe

POLLING = Mode("aiogram", webhook=False)
WEBHOOK = Mode("aiogram", webhook=True)
# The calls that take updates or change how Telegram delivers them: only `web` and `all` make
# them. A sender that called deleteWebhook would cut every web worker off.
INTAKE = ("getUpdates", "setWebhook", "deleteWebhook", "setMyCommands")


@pytest.fixture
def postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several processes share a PostgreSQL database; SQLite takes one")


@asynccontextmanager
async def another_process(db: Database, clock: FakeClock) -> AsyncIterator[App]:
    """An app on the same database with a connection pool of its own, as a second
    `returndesk run` has."""
    app = await build_app(
        db=Database(POSTGRES_URL, schema=db.schema), config=TEST_SHOP, clock=clock, migrate=False
    )
    try:
        yield app
    finally:
        await app.close()


async def until(done: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if await done():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("never came about")


async def count(db: Database, what: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(what) or 0)  # type: ignore[call-overload]


def test_the_web_role_refuses_long_polling_and_says_why(tmp_path: Path) -> None:
    root = logging.getLogger()
    level = root.level
    try:
        result = CliRunner().invoke(
            cli,
            ["run", "--role", "web", "--database-url", f"sqlite+aiosqlite:///{tmp_path}/r.db"],
            env={"RETURNDESK_TELEGRAM_TOKEN": "123:abc", "RETURNDESK_TELEGRAM_WEBHOOK_URL": ""},
        )
    finally:
        root.setLevel(level)  # `run` sets the bot's log level; the other tests keep theirs
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "--role web takes updates on the webhook" in said
    assert "RETURNDESK_TELEGRAM_WEBHOOK_URL" in said
    assert "one process with --role all" in said


def test_an_unknown_role_is_refused_with_the_roles_there_are() -> None:
    result = CliRunner().invoke(cli, ["run", "--role", "worker"])
    assert result.exit_code == 2
    assert "all" in result.output and "sweeper" in result.output


@pytest.mark.parametrize("role", [Role.SENDER, Role.SWEEPER, Role.ALL])
def test_the_roles_that_take_no_updates_and_all_may_poll(app: App, role: Role) -> None:
    settings = TelegramSettings(token="123:abc", webhook_url=None)
    service = TelegramService(
        app,
        make_adapter("aiogram", settings, LocalMediaStore(settings.media_dir)),
        settings,
        UNLIMITED,
        role=role,
    )
    assert service.role is role
    with pytest.raises(SetupError, match="--role web"):
        TelegramService(
            app,
            make_adapter("aiogram", settings, LocalMediaStore(settings.media_dir)),
            settings,
            UNLIMITED,
            role=Role.WEB,
        )


async def test_web_takes_updates_and_leaves_the_replies_to_a_sender(
    postgresql: None, app: App, clock: FakeClock, server: FakeBotAPI, tmp_path: Path
) -> None:
    async with running_bot(app, server, WEBHOOK, media_dir=tmp_path, role=Role.WEB):
        assert server.webhook is not None
        assert server.calls["setMyCommands"] > 0
        update = server.text_update(server.user(101, "Anna", "en"), "/start")
        update["update_id"] = server.next_update_id()  # posted by hand, numbered as Telegram does
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with (
            aiohttp.ClientSession() as http,
            http.post(server.webhook.url, json=update, headers=headers) as answer,
        ):
            assert answer.status == 200  # answered once applied
        await asyncio.sleep(1.5)  # longer than a sender's idle look at the outbox
        owed = await count(app.db, select(func.count()).select_from(OutboxMessage))
        assert owed > 0
        assert server.messages_for(101) == []  # the web worker sends nothing itself
        assert server.calls["getUpdates"] == 0

    async with (
        another_process(app.db, clock) as sending,
        running_bot(sending, server, WEBHOOK, media_dir=tmp_path, role=Role.SENDER),
    ):
        await until(lambda: _empty(app.db))
    assert "What do you need?" in server.messages_for(101)[-1].plain
    assert len(server.messages_for(101)) == owed


async def _empty(db: Database) -> bool:
    return await count(db, select(func.count()).select_from(OutboxMessage)) == 0


async def test_two_senders_on_one_database_deliver_every_row_once_in_order(
    postgresql: None, db: Database, clock: FakeClock, server: FakeBotAPI, tmp_path: Path
) -> None:
    chats = {chat_id: [f"{chat_id}: {n}" for n in range(6)] for chat_id in range(301, 341)}
    async with AsyncExitStack() as stack:
        for _ in range(2):
            app = await stack.enter_async_context(another_process(db, clock))
            await stack.enter_async_context(
                running_bot(app, server, WEBHOOK, media_dir=tmp_path, role=Role.SENDER)
            )
        # Owed while both run, in rounds, so both claim from the same rows as they come.
        for n in range(6):
            for chat_id, texts in chats.items():
                await _owe(db, clock, chat_id, [texts[n]])
        await until(lambda: _empty(db))
        holders = await count(db, select(func.count()).select_from(SenderHeartbeat))
        assert holders == 2  # two senders, each beating its own heartbeat
    for chat_id, texts in chats.items():
        assert [m.text for m in server.messages_for(chat_id)] == texts
    assert sum(server.calls[call] for call in INTAKE) == 0
    assert server.webhook is None  # no sender set or deleted one


async def test_two_sweepers_on_one_database_act_on_each_due_promise_once(
    postgresql: None, desk: Desk, clock: FakeClock, server: FakeBotAPI, tmp_path: Path
) -> None:
    for _ in range(6):
        await describe_defect(desk, price="5000")
    desk.later(days=2)  # every promise past its due time: each is breached, and escalated
    db = desk.db
    escalated = select(func.count()).where(CaseEvent.action == "escalated")
    sweeps = select(func.count()).where(TranscriptEntry.update_key.like("sweep:breach:%"))
    async with AsyncExitStack() as stack:
        for _ in range(2):
            app = await stack.enter_async_context(another_process(db, clock))
            await stack.enter_async_context(
                running_bot(
                    app, server, POLLING, media_dir=tmp_path, role=Role.SWEEPER, sweep_every=0.05
                )
            )
        await until(lambda: _at_least(db, escalated, 6))
        await asyncio.sleep(0.5)  # many more sweeps by both
    assert await count(db, escalated) == 6
    assert await count(db, sweeps) == 6
    assert await count(db, select(func.count()).select_from(SupportTopic)) == 6
    assert await count(db, select(func.count()).select_from(OutboxMessage)) > 0  # owed, unsent
    assert sum(server.calls.values()) == 0  # a sweeper never calls Telegram


async def _at_least(db: Database, what: object, n: int) -> bool:
    return await count(db, what) >= n


async def test_web_workers_and_senders_never_sweep(
    postgresql: None, desk: Desk, clock: FakeClock, server: FakeBotAPI, tmp_path: Path
) -> None:
    for _ in range(2):
        await describe_defect(desk, price="5000")
    desk.later(days=2)  # both promises past their due time
    escalated = select(func.count()).where(CaseEvent.action == "escalated")
    async with AsyncExitStack() as stack:
        for role, mode in ((Role.WEB, WEBHOOK), (Role.SENDER, WEBHOOK)):
            app = await stack.enter_async_context(another_process(desk.db, clock))
            await stack.enter_async_context(
                running_bot(app, server, mode, media_dir=tmp_path, role=role, sweep_every=0.05)
            )
        await asyncio.sleep(1.0)  # twenty sweeps' time
        assert await count(desk.db, escalated) == 0
    await desk.sweep()  # a sweeper would have found them
    assert await count(desk.db, escalated) == 2


# -- a sweeper without a token ------------------------------------------------------------------


async def test_a_sweeper_needs_no_token_and_sweeps(desk: Desk, tmp_path: Path) -> None:
    """The sweeper role makes no call to Telegram, so it starts without the token and without
    an adapter (docs/operations.md#roles); every other role still refuses to."""
    for _ in range(2):
        await describe_defect(desk, price="5000")
    desk.later(days=2)  # both promises past their due time
    app = desk.sandbox.app
    settings = TelegramSettings(token=None, media_dir=tmp_path)
    for role in (Role.SENDER, Role.WEB, Role.ALL):
        with pytest.raises(SetupError, match="RETURNDESK_TELEGRAM_TOKEN is not set"):
            TelegramService(app, None, settings, UNLIMITED, role=role)
    service = TelegramService(app, None, settings, UNLIMITED, role=Role.SWEEPER, sweep_every=0.05)
    assert (service.sender, service.runner, service.readiness.telegram) == (None, None, None)
    escalated = select(func.count()).where(CaseEvent.action == "escalated")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: _at_least(desk.db, escalated, 2))
    finally:
        stop.set()
        await task
    assert await count(desk.db, escalated) == 2


async def test_returndesk_run_role_sweeper_starts_without_a_token(tmp_path: Path) -> None:
    """`returndesk run --role sweeper` as an operator starts it, with no
    RETURNDESK_TELEGRAM_TOKEN: it checks the rest, starts, and breaches a promise past its due
    time by the real clock on the database; SIGTERM stops it cleanly. `config check --role
    sweeper` agrees; without the role it names the token."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'sweeper.db'}"
    db = Database(url)
    await db.upgrade()
    # A week ago by the machine's clock: the seller's promise is long past its due time now.
    week_ago = datetime.now(UTC) - timedelta(days=7)
    desk = await Desk.open(db, FakeClock(week_ago), tmp_path)
    try:
        await describe_defect(desk, price="5000")
    finally:
        await desk.close()
    env = {
        **os.environ,
        "RETURNDESK_TELEGRAM_TOKEN": "",
        "RETURNDESK_DATABASE_URL": url,
        "RETURNDESK_CONFIG": str(TEST_SHOP),
        "RETURNDESK_SWEEPER_EVERY": "0.2",
    }
    checked = CliRunner().invoke(cli, ["config", "check", "--role", "sweeper"], env=env)
    assert checked.exit_code == 0, checked.output
    refused = CliRunner().invoke(cli, ["config", "check"], env=env)
    assert refused.exit_code == 2 and "RETURNDESK_TELEGRAM_TOKEN is not set" in refused.output

    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", "--role", "sweeper"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    db = Database(url)
    try:
        escalated = select(func.count()).where(CaseEvent.action == "escalated")
        await until(lambda: _at_least(db, escalated, 1), seconds=60)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        await db.dispose()
    said = out.decode()
    assert process.returncode == 0, said
    assert "running as role sweeper" in said and "Cannot start" not in said
