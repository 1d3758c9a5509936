"""Which sender holds which outbox rows, and whether it is still alive (docs/sender.md).

A sender has an identity, a random id for the life of its process, and a row in `senders`
that it beats every `every` seconds; each row it claims names it (`outbox.held_by`). When a
sender beats it also looks at the others, and presumes dead one that has not beaten for
`dead_after` seconds, or at once one whose process is gone from this machine (a restart after
kill -9 finds its predecessor so). It deletes their rows and ends the leases of the outbox rows
they held, so the next claim takes them: seconds after a crash instead of the lease's two
minutes. Rows that name no sender (claimed before senders had identities) wait for the lease.

Presuming a live sender dead would let two senders send one row. A sender therefore sends
only while its last heartbeat is younger than its fence, two beats short of `dead_after`, so
it has stopped sending before anyone may presume it dead; and when a heartbeat finds its row
gone it takes a new identity and gives up what it held under the old one. What is left is a
message on its way, or sent and not yet recorded, when its sender lost the database for longer
than the fence: the crash window of docs/operations.md#crash-window.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import OutboxMessage, SenderHeartbeat

log = logging.getLogger(__name__)

SENDERS = cast(Table, SenderHeartbeat.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class Beating:
    """How often a sender beats, and after how long without a beat it is presumed dead
    (RETURNDESK_SENDER_HEARTBEAT_EVERY, _PRESUMED_DEAD_AFTER, _TAKEOVER)."""

    every: float = 1.0
    dead_after: float = 6.0
    # Off: no sender is presumed dead, and a dead one's rows wait for their lease.
    takeover: bool = True

    def __post_init__(self) -> None:
        if self.dead_after < 4 * self.every:
            raise ValueError("a sender is presumed dead after four heartbeats at the least")


def _place() -> str | None:
    """Where a process id names one process: this machine since its boot, in this process id
    namespace (a container has its own). None where that cannot be told (not Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = Path("/proc/self/ns/pid").readlink()
    except OSError:
        return None
    return f"{boot} {namespace}"[:64]


HOST = socket.gethostname()[:255]
PLACE = _place()
# The identities of this process's own senders: a row that names this process's id and is
# none of them was left by an earlier process that had the same id.
_OURS: set[str] = set()


def _process_gone(place: str | None, pid: int, holder: str) -> bool:
    if PLACE is None or place != PLACE:
        return False  # another machine or namespace: only its heartbeat can tell
    if pid == os.getpid():
        return holder not in _OURS
    try:
        os.kill(pid, 0)  # signal 0: whether the process exists, and nothing else
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, and is someone else's
    return False  # it exists: perhaps the sender, perhaps a process that took its id


class Heartbeat:
    """One sender's identity and heartbeat."""

    def __init__(self, db: Database, clock: Clock, beating: Beating | None = None) -> None:
        beating = beating or Beating()
        self.db = db
        self.clock = clock
        self.every = timedelta(seconds=beating.every)
        self.dead_after = timedelta(seconds=beating.dead_after)
        self.fence = self.dead_after - 2 * self.every
        self.takeover = beating.takeover
        self.holder = uuid.uuid4().hex
        self._beaten_at: datetime | None = None  # the time the last heartbeat recorded
        self._lock = asyncio.Lock()

    def due(self) -> bool:
        return self._beaten_at is None or self.clock.now() >= self._beaten_at + self.every

    def fresh(self) -> bool:
        """Whether no one can have presumed this sender dead yet."""
        return self._beaten_at is not None and self.clock.now() < self._beaten_at + self.fence

    async def beat(self) -> int:
        """Record that this sender is alive, and end the leases of senders presumed dead.
        Returns how many rows that freed."""
        async with self._lock:
            return await self._beat()

    async def holding(self, holder: str) -> bool:
        """Whether a row claimed as `holder` may be sent now. A sender whose last heartbeat
        is too old to be sure beats first (and tries again while the database is away)."""
        while holder == self.holder and not self.fresh():
            async with self._lock:
                if self.fresh():
                    break
                try:
                    await self._beat()
                except Exception:
                    log.exception("the sender's heartbeat failed; trying again in %s", self.every)
                    await asyncio.sleep(self.every.total_seconds())
        return holder == self.holder

    async def retire(self) -> None:
        """A sender that stops gives up its identity, and the rows it still holds (when
        stopping cut its deliveries short) go back to the outbox at once."""
        if self._beaten_at is None:
            return
        async with self._lock, self.db.transaction() as session:
            await session.execute(delete(SENDERS).where(SENDERS.c.id == self.holder))
            await session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.held_by == self.holder, OUTBOX.c.status == "sending")
                .values(status="pending", locked_until=None)
            )
        _OURS.discard(self.holder)
        self._beaten_at = None

    async def _beat(self) -> int:
        now = self.clock.now()
        holder = self.holder
        async with self.db.transaction() as session:
            beaten = await session.execute(
                update(SENDERS).where(SENDERS.c.id == holder).values(heartbeat_at=now)
            )
            if cast(CursorResult[Any], beaten).rowcount == 0:
                if self._beaten_at is not None:
                    # Another sender presumed this one dead and took its rows; what it claimed
                    # since, under the old identity, is let go too.
                    log.warning("this sender was presumed dead; it goes on as a new one")
                    await _end_leases(session, [holder], now)
                    holder = uuid.uuid4().hex
                # Known as this process's before anyone can see it (a sender beside this one
                # must not take it for a predecessor's).
                _OURS.add(holder)
                await session.execute(
                    insert(SENDERS).values(
                        id=holder,
                        host=HOST,
                        pid=os.getpid(),
                        place=PLACE,
                        started_at=now,
                        heartbeat_at=now,
                    )
                )
            freed = await self._bury(session, holder, now) if self.takeover else 0
        if holder != self.holder:
            _OURS.discard(self.holder)
            self.holder = holder
        self._beaten_at = now
        return freed

    async def _bury(self, session: AsyncSession, holder: str, now: datetime) -> int:
        """Presume dead the senders that stopped beating or whose process is gone; end the
        leases of what they held."""
        others = (
            await session.execute(
                select(SENDERS.c.id, SENDERS.c.place, SENDERS.c.pid, SENDERS.c.heartbeat_at).where(
                    SENDERS.c.id != holder
                )
            )
        ).all()
        silent_since = now - self.dead_after
        gone = [row.id for row in others if _process_gone(row.place, row.pid, row.id)]
        silent = [row.id for row in others if row.heartbeat_at < silent_since]
        if not gone and not silent:
            return 0
        # Checked again as they are deleted: one that beat meanwhile is alive after all.
        dead = (
            await session.execute(
                delete(SENDERS)
                .where(
                    SENDERS.c.id.in_(gone + silent),
                    or_(SENDERS.c.id.in_(gone), SENDERS.c.heartbeat_at < silent_since),
                )
                .returning(SENDERS.c.id, SENDERS.c.host, SENDERS.c.pid, SENDERS.c.heartbeat_at)
            )
        ).all()
        freed = await _end_leases(session, [row.id for row in dead], now)
        for row in dead:
            why = "its process is gone" if row.id in gone else f"silent since {row.heartbeat_at}"
            log.warning("the sender of pid %s on %s is presumed dead (%s)", row.pid, row.host, why)
        if freed:
            log.warning("%d outbox rows they held are sent now", freed)
        return freed


async def _end_leases(session: AsyncSession, holders: list[str], now: datetime) -> int:
    if not holders:
        return 0
    ended = await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.held_by.in_(holders),
            OUTBOX.c.status == "sending",
            OUTBOX.c.locked_until > now,
        )
        .values(locked_until=now)
    )
    return cast(CursorResult[Any], ended).rowcount
