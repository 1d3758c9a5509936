"""Two senders on one PostgreSQL database drain one outbox against a Bot API server that
enforces Telegram's limits (docs/sender.md#limits). With the budget shared, in PostgreSQL or in
Redis, the server never answers 429 and no second holds more than the bot's cap; each chat gets
its messages once, in order. With a budget per process, the same drain is refused (the control:
what the shared budget fixes).

The drain takes some ten seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.runtime.outbox import sender as outbox
from bot.runtime.outbox.budgets import PostgresBudget, RedisBudget
from bot.runtime.outbox.limits import Budget, MemoryBudget, RateLimiter
from bot.runtime.telegram.aiogram_adapter import AiogramAdapter
from bot.storage.database import Database
from bot.storage.media.local import LocalMediaStore
from bot.testing.botapi import FakeBotAPI, SentMessage
from tests.conftest import POSTGRES_URL
from tests.test_limits import REDIS_URL

# Telegram's limits per chat and per group; the bot's a third of Telegram's 30 a second, so
# that two senders sharing this machine's cores with the server can go over it when each keeps
# its own budget (the control).
PER_CHAT, GLOBAL, GROUP = 1.0, 10, 20  # a second, a second, a minute
CHATS, EACH = 30, 3


async def _owe(db: Database, now: datetime, chats: int, each: int) -> dict[int, list[str]]:
    owed = {
        7_000_000 + chat: [f"reply {n} to chat {chat}" for n in range(each)]
        for chat in range(chats)
    }
    owed[-100_777] = [f"desk update {n}" for n in range(each)]  # a group: 20 a minute
    rows = [
        {
            "chat_id": chat,
            "text": text,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for chat, texts in owed.items()
        for text in texts
    ]
    async with db.transaction() as session:
        await session.execute(insert(outbox.OUTBOX), rows)
    return owed


@pytest.fixture
async def second_db(backend: str, migrated: str) -> AsyncIterator[Database]:
    """The same database through a pool of its own, as another process has."""
    if backend != "postgresql":
        pytest.skip("several senders share a PostgreSQL database; on SQLite one process sends")
    database = Database(POSTGRES_URL, schema=migrated)
    yield database
    await database.dispose()


async def _drain(
    db: Database,
    second_db: Database,
    clock: FakeClock,
    tmp_path: Path,
    *,
    budgets: tuple[Budget, Budget],
    chats: int = CHATS,
    cap: int = GLOBAL,
) -> tuple[FakeBotAPI, dict[int, list[str]], list[float]]:
    owed = await _owe(db, clock.now(), chats, EACH)
    batch = chats * EACH // 2  # rows a claim takes: both senders have chats in hand at once
    sent_at: list[float] = []
    async with FakeBotAPI(
        enforce_limits=True,
        per_chat_per_second=PER_CHAT,
        global_per_second=cap,
        group_per_minute=GROUP,
    ) as server:

        def record(message: SentMessage) -> None:
            sent_at.append(time.monotonic())

        server.on_sent.append(record)
        senders = []
        for database, budget in zip((db, second_db), budgets, strict=True):
            transport = AiogramAdapter(
                token=server.token,
                api_url=server.base_url,
                media=LocalMediaStore(tmp_path),
                max_photo_bytes=1_000_000,
            )
            await transport.start()
            limiter = RateLimiter(
                per_chat_per_second=PER_CHAT,
                global_per_second=cap,
                group_per_minute=GROUP,
                budget=budget,
            )
            senders.append(
                outbox.OutboxSender(
                    db=database, transport=transport, clock=clock, limiter=limiter, batch=batch
                )
            )
        try:
            counts = await asyncio.wait_for(asyncio.gather(*(s.drain() for s in senders)), 120)
            assert all(counts)  # both senders sent
            # A sender that found every chat in the other's hands stopped early: what is owed
            # still goes out.
            while await senders[0].drain() or await senders[1].drain():
                pass
        finally:
            for sender in senders:
                await sender.transport.close()  # type: ignore[attr-defined]
    return server, owed, sent_at


def _busiest_second(sent_at: list[float]) -> int:
    return max(bisect.bisect_left(sent_at, at + 1.0) - n for n, at in enumerate(sent_at))


async def _left(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(outbox.OUTBOX)) or 0)


@pytest.fixture(params=["postgresql", "redis"])
async def shared(
    request: pytest.FixtureRequest, db: Database, second_db: Database
) -> AsyncIterator[tuple[Budget, Budget]]:
    if request.param == "postgresql":
        yield PostgresBudget(db), PostgresBudget(second_db)
        return
    prefix = f"returndesk-test:{{{uuid.uuid4().hex}}}:"
    clients = [Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)]
    yield RedisBudget(clients[0], prefix=prefix), RedisBudget(clients[1], prefix=prefix)
    await clients[0].delete(*[key async for key in clients[0].scan_iter(match=f"{prefix}*")])
    for client in clients:
        await client.aclose()


async def test_two_senders_sharing_the_budget_drain_without_a_429(
    db: Database,
    second_db: Database,
    clock: FakeClock,
    tmp_path: Path,
    shared: tuple[Budget, Budget],
) -> None:
    server, owed, sent_at = await _drain(db, second_db, clock, tmp_path, budgets=shared)

    assert server.responses_429 == 0
    assert _busiest_second(sorted(sent_at)) <= GLOBAL
    # Each chat's messages once, in the order they were written.
    for chat, texts in owed.items():
        assert [m.text for m in server.messages_for(chat)] == texts
    assert len(server.sent) == sum(len(texts) for texts in owed.values())
    assert await _left(db) == 0


async def test_two_senders_each_with_its_own_budget_are_told_to_slow_down(
    db: Database, second_db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    """The control: what two processes did before the budget was shared. A lower cap, so that
    twice it is in reach however busy this machine's cores are."""
    budgets = (MemoryBudget(), MemoryBudget())
    server, owed, _ = await _drain(db, second_db, clock, tmp_path, budgets=budgets, chats=10, cap=4)

    assert server.responses_429 > 0
    for chat, texts in owed.items():
        assert [m.text for m in server.messages_for(chat)] == texts
