"""Delivers the outbox (DESIGN decision 2): at least once, in order per chat, within limits.

A sender claims due rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so several
processes share the work), delivers each chat's rows in order, and marks each row sent the
moment the messenger accepted it. A row whose sender died is claimed again when its lease ends.
The one window where a message can go out twice is a crash after the messenger accepted it and
before the row was marked: no messenger API lets a client close that window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.delivery.limits import RateLimiter
from bot.delivery.transport import (
    Outbound,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    Transport,
)
from bot.storage.database import Database
from bot.storage.models import OutboxMessage, TranscriptEntry

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BACKOFF_CAP = 30.0  # seconds between inline retries at most
REQUEUE_AFTER = timedelta(minutes=1)  # when inline retries ran out
SENT_FLUSH_ROWS = 50
SENT_FLUSH_SECONDS = 0.1


class Sender:
    def __init__(
        self,
        *,
        db: Database,
        transport: Transport,
        clock: Clock,
        limiter: RateLimiter,
        max_attempts: int = 8,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.batch = batch
        self._wake = asyncio.Event()
        self.retries_after = 0  # how many times the messenger said "slow down"
        self._unmarked: list[tuple[int, int]] = []  # delivered, not yet recorded
        self._unmarked_since = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Deliver until nothing is due. Returns how many rows were delivered."""
        total = 0
        while True:
            delivered, claimed = await self.deliver_due()
            total += delivered
            if claimed == 0:
                return total

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver until `stop` is set, then deliver what is due and return."""
        while not stop.is_set():
            _, claimed = await self.deliver_due()
            if claimed:
                continue
            self._wake.clear()
            stopping = asyncio.ensure_future(stop.wait())
            waking = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait(
                {stopping, waking}, timeout=idle, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (stopping, waking):
                task.cancel()
        await self.drain()

    async def deliver_due(self) -> tuple[int, int]:
        rows = await self._claim()
        if not rows:
            return 0, 0
        by_chat: dict[int, list[Outbound]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        results = await asyncio.gather(*(self._deliver_chat(chat) for chat in by_chat.values()))
        await self._flush_sent()
        return sum(results), len(rows)

    async def _claim(self) -> list[Outbound]:
        now = self.clock.now()
        earlier = aliased(OutboxMessage)
        # A row waits while an earlier row of its chat is held by a sender or waiting to be
        # retried, so each chat reads its messages in the order they were written.
        blocked = exists().where(
            earlier.chat_id == OutboxMessage.chat_id,
            earlier.id < OutboxMessage.id,
            or_(
                and_(earlier.status == "sending", earlier.locked_until > now),
                and_(earlier.status == "pending", earlier.next_attempt_at > now),
            ),
        )
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.locked_until <= now),
        )
        async with self.db.transaction() as session:
            query = (
                select(OutboxMessage)
                .where(due, ~blocked)
                .order_by(OutboxMessage.id)
                .limit(self.batch)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = list(await session.scalars(query))
            for row in rows:
                row.status = "sending"
                row.locked_until = now + LEASE
            return [
                Outbound(r.id, r.chat_id, r.thread_id, r.text, r.buttons, r.photos) for r in rows
            ]

    async def _deliver_chat(self, messages: list[Outbound]) -> int:
        delivered = 0
        for position, message in enumerate(messages):
            outcome = await self._deliver_one(message)
            if outcome == "requeued":
                # Keep the chat's order: its later rows wait behind this one.
                await self._release([m.id for m in messages[position + 1 :]])
                break
            delivered += outcome == "sent"
        return delivered

    async def _deliver_one(self, message: Outbound) -> str:
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(message.chat_id)
            try:
                message_id = await self.transport.deliver(message)
            except RetryAfterError as slow_down:
                self.retries_after += 1
                self.limiter.pause(message.chat_id, slow_down.seconds)
                error = str(slow_down)
            except TemporaryError as failure:
                error = str(failure) or failure.__class__.__name__
                await asyncio.sleep(min(BACKOFF_CAP, 0.5 * 2 ** (attempt - 1)))
            except PermanentError as failure:
                log.warning(
                    "outbox %s to %s failed for good: %s", message.id, message.chat_id, failure
                )
                await self._failed(message.id, str(failure), attempt)
                return "failed"
            else:
                await self._sent(message.id, message_id)
                return "sent"
            if attempt >= self.max_attempts:
                log.warning(
                    "outbox %s to %s: %s; trying again later", message.id, message.chat_id, error
                )
                await self._requeue(message.id, error, attempt)
                return "requeued"

    async def _sent(self, row_id: int, message_id: int) -> None:
        """Delivered. Deliveries are recorded a few at a time (a transaction each would make the
        sender, not Telegram, the limit); the marks wait at most SENT_FLUSH_SECONDS, which is
        the window in which a crash could make one message go out twice."""
        self._unmarked.append((row_id, message_id))
        waited = time.monotonic() - self._unmarked_since if len(self._unmarked) > 1 else 0.0
        if len(self._unmarked) == 1:
            self._unmarked_since = time.monotonic()
        if len(self._unmarked) >= SENT_FLUSH_ROWS or waited >= SENT_FLUSH_SECONDS:
            await self._flush_sent()

    async def _flush_sent(self) -> None:
        """The delivered rows leave the outbox for the transcript."""
        marks, self._unmarked = self._unmarked, []
        if not marks:
            return
        delivered = dict(marks)
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(delivered))
            )
            session.add_all(
                TranscriptEntry(
                    at=row.created_at,
                    direction="out",
                    chat_id=row.chat_id,
                    case_id=row.case_id,
                    text=row.text,
                    template=row.template,
                    caused_by=row.caused_by,
                    delivered_at=now,
                    message_id=delivered[row.id],
                )
                for row in rows
            )
            await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(delivered)))

    async def _failed(self, row_id: int, error: str, attempts: int) -> None:
        """It can never be delivered; the row stays, marked, for a person to look at."""
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status="failed",
                    last_error=error,
                    locked_until=None,
                    attempts=OutboxMessage.attempts + attempts,
                )
            )

    async def _requeue(self, row_id: int, error: str, attempts: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status="pending",
                    next_attempt_at=self.clock.now() + REQUEUE_AFTER,
                    last_error=error,
                    locked_until=None,
                    attempts=OutboxMessage.attempts + attempts,
                )
            )

    async def _release(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending")
                .values(status="pending", locked_until=None)
            )
