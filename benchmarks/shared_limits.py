"""One outbox drained by one sender process, and by two, on one PostgreSQL database, against a
Bot API server enforcing Telegram's limits (30 a second in all, 1 a second a chat); the two
share the budget in PostgreSQL (`--store postgresql`) or Redis (`--store redis`), or each keeps
its own (`--store process`, what two processes did before, docs/sender.md#limits).

Reported for each: the drain rate, the busiest second, and how many 429s the server gave; and
the ratio of the two senders' rate to the one sender's, measured in the same run (target: about
1.0, with no 429: the cap is the bot's, and two senders share it rather than double it).

    python -m benchmarks.shared_limits [--replies 600 --chats 200 --store postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import multiprocessing
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import SystemClock
from bot.runtime.outbox.budgets import PostgresBudget, RedisBudget
from bot.runtime.outbox.limits import Budget, MemoryBudget, RateLimiter
from bot.runtime.outbox.sender import OUTBOX, OutboxSender
from bot.runtime.telegram.aiogram_adapter import AiogramAdapter
from bot.storage.database import Database
from bot.storage.media.local import LocalMediaStore
from bot.testing.botapi import FakeBotAPI, SentMessage

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
GLOBAL_CAP = 30


async def _sender(schema: str, api_url: str, token: str, store: str, prefix: str) -> None:
    db = Database(POSTGRES, schema=schema)
    budget: Budget
    if store == "postgresql":
        budget = PostgresBudget(db)
    elif store == "redis":
        budget = RedisBudget.from_url(REDIS, prefix=prefix)
    else:
        budget = MemoryBudget()
    with tempfile.TemporaryDirectory() as media:
        transport = AiogramAdapter(
            token=token,
            api_url=api_url,
            media=LocalMediaStore(Path(media)),
            max_photo_bytes=1_000_000,
        )
        await transport.start()
        sender = OutboxSender(
            db=db,
            transport=transport,
            clock=SystemClock(),
            limiter=RateLimiter(budget=budget),
        )
        # As `returndesk run` sends: until told to stop, here when the outbox is empty.
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.run(stop, idle=0.2))
        try:
            while not stop.is_set():
                await asyncio.sleep(0.5)
                async with db.session() as session:
                    if not await session.scalar(text("SELECT count(*) FROM outbox")):
                        stop.set()
            await sending
        finally:
            await transport.close()
            if isinstance(budget, RedisBudget):
                await budget.close()
            await db.dispose()


def _sender_process(*arguments: str) -> None:
    asyncio.run(_sender(*arguments))


async def _fill(schema: str, replies: int, chats: int) -> None:
    db = Database(POSTGRES, schema=schema)
    now = datetime.now(UTC)
    rows = [
        {
            "chat_id": 5_000_000 + chat,
            "text": f"Reply {n + 1} to chat {chat}.",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for chat in range(chats)
        for n in range(replies // chats)
    ]
    async with db.transaction() as session:
        await session.execute(text("TRUNCATE outbox, transcript, senders, rate_budgets"))
        await session.execute(insert(OUTBOX), rows)
    await db.dispose()


async def _round(
    schema: str, senders: int, store: str, replies: int, chats: int
) -> dict[str, float]:
    await _fill(schema, replies, chats)
    sent: list[float] = []
    async with FakeBotAPI(enforce_limits=True, global_per_second=GLOBAL_CAP) as server:

        def record(_message: SentMessage) -> None:
            sent.append(time.monotonic())

        server.on_sent.append(record)
        prefix = f"returndesk-bench:{{{uuid.uuid4().hex}}}:"
        spawn = multiprocessing.get_context("spawn")
        processes = [
            spawn.Process(
                target=_sender_process, args=(schema, server.base_url, server.token, store, prefix)
            )
            for _ in range(senders)
        ]
        for process in processes:
            process.start()
        for process in processes:
            await asyncio.to_thread(process.join)
    seconds = sent[-1] - sent[0]
    busiest = max(bisect.bisect_left(sent, at + 1.0) - n for n, at in enumerate(sent))
    return {
        "rate": (len(sent) - 1) / seconds,
        "busiest": busiest,
        "429": server.responses_429,
        "sent": len(sent),
    }


async def run(replies: int, chats: int, store: str) -> None:
    schema = f"rd_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(POSTGRES)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        migrating = Database(POSTGRES, schema=schema)
        await migrating.upgrade()
        await migrating.dispose()
        results = {}
        for senders in (1, 2):
            results[senders] = outcome = await _round(schema, senders, store, replies, chats)
            print(
                f"{senders} sender(s), budget in {store if senders > 1 else 'one process'}: "
                f"{outcome['sent']:.0f} sent at {outcome['rate']:.2f}/s "
                f"({outcome['rate'] / GLOBAL_CAP:.1%} of {GLOBAL_CAP}/s), busiest second "
                f"{outcome['busiest']:.0f}, 429 answers {outcome['429']:.0f}"
            )
        print(f"two senders / one sender: {results[2]['rate'] / results[1]['rate']:.3f}")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--store", choices=["postgresql", "redis", "process"], default="postgresql")
    options = parser.parse_args()
    asyncio.run(run(options.replies, options.chats, options.store))


if __name__ == "__main__":
    main()
