"""Telegram's limits as one budget for every sender of the bot (docs/sender.md#limits): the
process's own, PostgreSQL's and Redis's answer alike, on a real server, with the time injected.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from bot.runtime.outbox.budgets import _RESERVE, PRUNE_EVERY, PostgresBudget, RedisBudget
from bot.runtime.outbox.limits import Budget, MemoryBudget, Reservation
from bot.storage.database import Database

REDIS_URL = os.environ.get("RETURNDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START = 1_800_000_000.0  # seconds since the epoch: PostgreSQL and Redis keep times like these
CHAT, GROUP = 1.0, 3.0  # seconds between a chat's messages, a group's (20 a minute)
SLOT = 1 / 30  # seconds between the bot's messages


class Now:
    def __init__(self) -> None:
        self.value = START

    def __call__(self) -> float:
        return self.value


Make = Callable[[], Budget]


@pytest.fixture(params=["process", "postgresql", "redis"])
async def make(
    request: pytest.FixtureRequest, backend: str, db: Database, now: Now
) -> AsyncIterator[Make]:
    """Budgets that share one store (several senders), all on the injected time."""
    kind = request.param
    if kind == "process":
        if backend != "sqlite":
            pytest.skip("the process's own budget does not depend on the database")
        budget = MemoryBudget(now)
        yield lambda: budget  # one process: one budget
        return
    if kind == "postgresql":
        if backend != "postgresql":
            pytest.skip("the shared budget on SQLite is the process's own")
        yield lambda: PostgresBudget(db, now)
        return
    if backend != "postgresql":
        pytest.skip("Redis is tried once, beside PostgreSQL")
    prefix = f"returndesk-test:{{{uuid.uuid4().hex}}}:"
    clients: list[Redis] = []

    def redis_budget() -> Budget:
        clients.append(Redis.from_url(REDIS_URL))
        return RedisBudget(clients[-1], prefix=prefix, now=now)

    yield redis_budget
    for client in clients:
        await client.aclose()
    cleanup = Redis.from_url(REDIS_URL)
    keys = [key async for key in cleanup.scan_iter(match=f"{prefix}*")]
    if keys:
        await cleanup.delete(*keys)
    await cleanup.aclose()


@pytest.fixture
def now() -> Now:
    return Now()


def approx(reservation: Reservation) -> tuple[bool, float]:
    return reservation.reserved, round(reservation.wait, 4)


async def test_a_chat_waits_its_second_and_the_bot_its_slot(make: Make, now: Now) -> None:
    budget = make()
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (True, 0.0)
    # The chat is not free: no slot of the bot's is spent on it.
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (False, CHAT)
    assert approx(await budget.reserve("chat:2", CHAT, SLOT)) == (True, round(SLOT, 4))
    assert approx(await budget.reserve("chat:3", CHAT, SLOT)) == (True, round(2 * SLOT, 4))
    now.value += 0.5
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (False, 0.5)
    now.value += 0.5
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (True, 0.0)


async def test_a_chat_is_next_free_a_second_after_its_slot_not_after_asking(
    make: Make, now: Now
) -> None:
    budget = make()
    for chat in range(30):  # a second of the bot's slots taken
        await budget.reserve(f"chat:{chat}", CHAT, SLOT)
    assert approx(await budget.reserve("chat:late", CHAT, SLOT)) == (True, 1.0)
    now.value += 1.0
    # Its message goes out at START + 1: the next one may not follow at once.
    assert approx(await budget.reserve("chat:late", CHAT, SLOT)) == (False, CHAT)


async def test_a_group_waits_three_seconds_without_holding_up_other_chats(
    make: Make, now: Now
) -> None:
    budget = make()
    assert approx(await budget.reserve("chat:-100", GROUP, SLOT)) == (True, 0.0)
    now.value += 1.0
    assert approx(await budget.reserve("chat:-100", GROUP, SLOT)) == (False, 2.0)
    assert approx(await budget.reserve("chat:7", CHAT, SLOT)) == (True, 0.0)


async def test_retry_after_pauses_the_chat_and_the_bot(make: Make, now: Now) -> None:
    budget = make()
    await budget.pause("chat:1", 5.0)
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (False, 5.0)
    assert approx(await budget.reserve("chat:2", CHAT, SLOT)) == (True, 5.0)
    # A shorter pause later never shortens the longer one.
    await budget.pause("chat:1", 1.0)
    assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (False, 5.0)


async def test_senders_asking_at_once_never_get_the_same_slot(make: Make) -> None:
    senders = [make(), make()]
    chats = 60
    answers = await asyncio.gather(
        *(senders[n % 2].reserve(f"chat:{n}", CHAT, SLOT) for n in range(chats))
    )
    assert all(answer.reserved for answer in answers)
    slots = sorted(round(answer.wait / SLOT) for answer in answers)
    assert slots == list(range(chats))


async def test_the_shared_budgets_keep_the_servers_time(backend: str, db: Database) -> None:
    """Without an injected time, PostgreSQL's and Redis's clocks are the budget's: senders on
    hosts whose clocks disagree still share one schedule."""
    if backend != "postgresql":
        pytest.skip("the shared budgets are PostgreSQL's and Redis's")
    client = Redis.from_url(REDIS_URL)
    prefix = f"returndesk-test:{{{uuid.uuid4().hex}}}:"
    try:
        for budget in (PostgresBudget(db), RedisBudget(client, prefix=prefix)):
            assert approx(await budget.reserve("chat:1", CHAT, SLOT)) == (True, 0.0)
            second = await budget.reserve("chat:2", CHAT, SLOT)
            assert second.reserved
            assert 0 < second.wait <= SLOT
            chat = await budget.reserve("chat:1", CHAT, SLOT)
            assert not chat.reserved
            assert 0.5 < chat.wait <= CHAT
    finally:
        await client.delete(*[key async for key in client.scan_iter(match=f"{prefix}*")])
        await client.aclose()


async def test_postgresql_forgets_chats_free_for_a_minute(backend: str, db: Database) -> None:
    if backend != "postgresql":
        pytest.skip("the rows are PostgreSQL's")
    now = Now()
    budget = PostgresBudget(db, now)
    await budget.reserve("chat:1", CHAT, SLOT)
    now.value += 30
    await budget.reserve("chat:2", CHAT, SLOT)
    now.value += 40  # chat 1 free for 69 s, chat 2 for 29 s
    budget._pruned = -PRUNE_EVERY  # the next reservation prunes
    await budget.reserve("chat:3", CHAT, SLOT)
    async with db.session() as session:
        scopes = (await session.execute(text("SELECT scope FROM rate_budgets"))).scalars()
        assert sorted(scopes) == ["chat:2", "chat:3", "global"]


async def test_a_reservation_commits_quickly_for_itself_only(
    backend: str, db: Database, now: Now
) -> None:
    """The reservation's transaction does not wait for the disk (docs/sender.md#limits); the
    connection it ran on, back in the pool for every other transaction, still does."""
    if backend != "postgresql":
        pytest.skip("the budget is kept in PostgreSQL only there")
    budget = PostgresBudget(db, now)
    parameters = {
        "now": now(),
        "chat": "chat:1",
        "global": "global",
        "interval": SLOT,
        "chat_interval": CHAT,
    }
    async with budget.engine.connect() as connection:
        await connection.execute(_RESERVE, parameters)
        assert await connection.scalar(text("SHOW synchronous_commit")) == "on"
