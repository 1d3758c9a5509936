"""What one claim of the sender costs, for outboxes of a given shape, without Telegram.

    python -m benchmarks.claim [--database postgresql]

Two measurements, each on a fresh database:
- The conversation benchmark's shape: the sellers' chat owes 0, 50 or 150 rows (it gets a
  message for every accepted offer, and a claim takes at most three rows of a chat), beside 100
  buyers' chats that owe one row each, half of them held by a sender. On SQLite the claim's
  VM instructions are counted (sqlite3's progress handler), which the machine's load does not
  change; on PostgreSQL the claim's time.
- A backlog of 10,000 rows in 500 chats: the time of one claim of 200 rows, and on PostgreSQL
  also before the table has statistics (a bulk insert, before autovacuum's ANALYZE).

Each claim runs in a transaction that is rolled back, so every claim sees the same rows. The
script reaches the claim only through `OutboxSender`, so it also measures another checkout of
the bot that has it (bot/runtime/outbox/sender.py; before issue 19 it was
bot/delivery/sender.py's `Sender`): `PYTHONPATH=/tmp/old python benchmarks/claim.py` runs this
file on the code in /tmp/old.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, insert, text

from benchmarks.conversation import database_url
from bot.clock import FakeClock
from bot.runtime.outbox import sender
from bot.runtime.outbox.limits import NoLimits
from bot.sandbox.memory import MemoryTransport
from bot.storage.database import Database

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
# An older checkout's claim names no holder and ignores the parameter.
_TIMES = {"now": NOW, "until": NOW + sender.LEASE, "holder": "0" * 32}
SHAPES = ((0, 100, 50), (50, 100, 50), (150, 100, 50))  # sellers' rows, buyers' chats, held


def _row(chat_id: int, *, held: bool = False) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "text": "a reply",
        "status": "sending" if held else "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "locked_until": NOW + timedelta(minutes=2) if held else None,
        "created_at": NOW,
    }


def _conversation_shape(sellers_rows: int, buyers: int, held: int) -> list[dict[str, Any]]:
    rows = [_row(1) for _ in range(sellers_rows)]
    return rows + [_row(1_000 + n, held=n < held) for n in range(buyers)]


def _backlog(rows: int, chats: int) -> list[dict[str, Any]]:
    return [_row(1_000 + n % chats) for n in range(rows)]


async def _owe(db: Database, rows: list[dict[str, Any]], *, analyze: bool) -> None:
    async with db.transaction() as session:
        await session.execute(delete(sender.OUTBOX))
        await session.execute(insert(sender.OUTBOX), rows)
    if analyze and not db.is_sqlite:
        async with db.transaction() as session:
            await session.execute(text("ANALYZE outbox"))


async def _claim(db: Database, claiming: Any) -> int:
    """One claim, rolled back: how many rows it took."""
    async with db.transaction() as session:
        claimed = len((await session.execute(claiming, _TIMES)).all())
        await session.rollback()
    return claimed


def _vm_instructions(path: str, claiming: Any) -> int:
    """SQLite: the VM instructions of one claim (rolled back), on a plain sqlite3 connection to
    the same file, whose progress handler counts them."""
    engine = create_engine(f"sqlite:///{path}")
    counted = 0

    def tick() -> int:
        nonlocal counted
        counted += 1
        return 0

    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.set_progress_handler(tick, 1)  # type: ignore[union-attr]
        connection.execute(claiming, _TIMES).all()
        connection.rollback()
    engine.dispose()
    return counted


async def _median_ms(db: Database, claiming: Any, times: int) -> tuple[float, int]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        claimed = await _claim(db, claiming)
        spent.append(time.perf_counter() - started)
    return statistics.median(spent) * 1000, claimed


async def run(url: str, path: str) -> None:
    db = Database(url)
    await db.upgrade()
    clock = FakeClock(NOW)
    claiming = sender.OutboxSender(
        db=db, transport=MemoryTransport(), clock=clock, limiter=NoLimits()
    )._outbox.claiming
    for sellers_rows, buyers, held in SHAPES:
        await _owe(db, _conversation_shape(sellers_rows, buyers, held), analyze=True)
        shape = f"sellers' chat owing {sellers_rows:>3}, {buyers} buyers' chats ({held} held)"
        if db.is_sqlite:
            counted = await asyncio.to_thread(_vm_instructions, path, claiming)
            claimed = await _claim(db, claiming)
            print(f"{shape}: {counted:>9,} VM instructions a claim ({claimed} rows claimed)")
        else:
            spent, claimed = await _median_ms(db, claiming, 20)
            print(f"{shape}: {spent:7.2f} ms a claim ({claimed} rows claimed)")
    # On PostgreSQL also before ANALYZE: the planner then knows nothing of the backlog.
    for analyze in (True,) if db.is_sqlite else (False, True):
        await _owe(db, _backlog(10_000, 500), analyze=analyze)
        spent, claimed = await _median_ms(db, claiming, 20 if analyze else 5)
        known = "" if db.is_sqlite else ", with statistics" if analyze else ", no statistics"
        print(f"backlog of 10,000 rows in 500 chats{known}: {spent:7.2f} ms a claim", end="")
        print(f" ({claimed} rows claimed)")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="returndesk-claim-") as folder:
        url = database_url(options.database, Path(folder), "claim")
        asyncio.run(run(url, str(Path(folder) / "claim.db")))


if __name__ == "__main__":
    main()
