"""Delivers the outbox (docs/design.md#the-outbox): at least once, in order per chat, within limits.

A sender claims due rows with a lease, delivers each chat's rows in order, and marks each row
sent the moment the messenger accepted it. Several senders (processes) can share one outbox:
each claim takes whole chats, each by locking its first owed row with SKIP LOCKED, so none
claims a chat's later row while another is taking its earlier one, and none waits for another
(docs/sender.md#claiming). Each row claimed names its sender, and a sender that stopped beating
(or whose process is gone) is presumed dead within seconds and its rows claimed again
(bot/runtime/outbox/heartbeat.py); the lease is the backstop for rows that name no sender.
The one window where a message can go out twice is a crash after the messenger accepted it and
before the row was marked: no messenger API lets a client close that window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.runtime.outbox.heartbeat import Beating, Heartbeat
from bot.runtime.outbox.limits import RateLimiter
from bot.runtime.outbox.transport import (
    Outbound,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    Transport,
    UncertainDeliveryError,
)
from bot.storage.database import Database, unit_of_work
from bot.storage.models import OutboxMessage, SupportTopic
from bot.storage.stores.outbox import OUTBOX, TRANSCRIPT, OutboxStore
from bot.telemetry import log_context
from bot.telemetry.metrics import Metrics

# OUTBOX and TRANSCRIPT too: tests and benchmarks read the outbox as the sender leaves it.
__all__ = ["LEASE", "OUTBOX", "PER_CHAT", "TRANSCRIPT", "OutboxSender"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
# A claim takes at most this many rows of one chat, and the sender holds at most its batch of
# rows at a time: both keep every claimed row's wait for its limits (1/s a chat, 20/min a group,
# 30/s in all) far inside its lease, so no row is taken over while it is still in hand.
PER_CHAT = 3
BACKOFF_CAP = 30.0  # seconds between inline retries at most
REQUEUE_AFTER = timedelta(minutes=1)  # when inline retries ran out
SENT_FLUSH_ROWS = 50
SENT_FLUSH_SECONDS = 0.1


class OutboxSender:
    def __init__(
        self,
        *,
        db: Database,
        transport: Transport,
        clock: Clock,
        limiter: RateLimiter,
        max_attempts: int = 8,
        batch: int = 200,
        beating: Beating | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        self.transport = transport
        self.clock = clock
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.batch = batch
        self._wake = asyncio.Event()
        self.retries_after = 0  # how many times the messenger said "slow down"
        self._unmarked: list[tuple[int, int | None]] = []  # delivered, not yet recorded
        self._unmarked_since = 0.0
        self._outbox = OutboxStore(postgresql=not db.is_sqlite, batch=batch, per_chat=PER_CHAT)
        self.heartbeat = Heartbeat(db, clock, beating)

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
        """Deliver until `stop` is set, then deliver what is due and return.

        Each chat's claimed rows go out in a task of their own, and the next claim does not
        wait for them: a chat held back by its limit (a busy group, 20 a minute) must not hold
        back everyone else's replies. The claim skips the rows of a chat still in hand, since
        its earlier rows are still being sent."""
        try:
            await self._run(stop, min(idle, self.heartbeat.every.total_seconds()))
        finally:
            # Also when stopping cut the deliveries short: what is still held goes back.
            try:
                await self.heartbeat.retire()
            except Exception:
                log.exception("the sender could not retire; it will be presumed dead")

    async def _run(self, stop: asyncio.Event, idle: float) -> None:
        in_hand: dict[asyncio.Task[int], int] = {}  # a chat's delivery: how many rows
        while not stop.is_set():
            # Cleared before looking, so a wake-up that comes while we look is not lost.
            self._wake.clear()
            rows: list[Outbound] = []
            try:
                if self.heartbeat.due():  # the loop comes round at least every beat
                    await self.heartbeat.beat()
            except Exception:
                log.exception("the sender's heartbeat failed; trying again in %.0fs", idle)
            holder = self.heartbeat.holder
            try:
                if sum(in_hand.values()) < self.batch and self.heartbeat.fresh():
                    rows = await self._claim(holder)
            except Exception:
                # The database is away (or restarted and dropped this connection): nothing
                # claimed is lost, and the next claim, on a new connection, takes it again.
                log.exception("claiming the outbox failed; trying again in %.0fs", idle)
            for messages in _by_chat(rows).values():
                task = asyncio.create_task(self._deliver_chat(messages, holder))
                in_hand[task] = len(messages)
                task.add_done_callback(self._chat_done(in_hand))
            if len(rows) == self.batch:
                continue  # there may be more due already
            # Otherwise everything due was taken: the next claim waits for a reason to look.
            stopping = asyncio.ensure_future(stop.wait())
            waking = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait(
                {stopping, waking}, timeout=idle, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (stopping, waking):
                task.cancel()
        if in_hand:
            await asyncio.gather(*in_hand)
        await self.drain()

    def _chat_done(
        self, in_hand: dict[asyncio.Task[int], int]
    ) -> Callable[[asyncio.Task[int]], None]:
        def done(task: asyncio.Task[int]) -> None:
            in_hand.pop(task, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("delivering a chat's messages failed", exc_info=task.exception())
            self.wake()  # the chat's next rows, and its delivered ones to record

        return done

    async def deliver_due(self) -> tuple[int, int]:
        """Claim what is due and deliver all of it (what `drain` and the tests step through)."""
        if self.heartbeat.due():
            await self.heartbeat.beat()
        holder = self.heartbeat.holder
        rows = await self._claim(holder)
        if not rows:
            return 0, 0
        chats = _by_chat(rows).values()
        results = await asyncio.gather(
            *(self._deliver_chat(messages, holder) for messages in chats)
        )
        # What was delivered is recorded by the next claim, which follows at once.
        return sum(results), len(rows)

    @unit_of_work
    async def _claim(self, holder: str) -> list[Outbound]:
        """Record the rows delivered since the last claim, and take due rows for this sender
        (UPDATE ... RETURNING), as `holder`, in one transaction."""
        now = self.clock.now()
        claiming = {"now": now, "until": now + LEASE, "holder": holder}
        async with self._marks() as marks, self.db.transaction() as session:
            await self._retire(session, marks)
            rows = await self._outbox.claim(session, claiming)
        return sorted((Outbound(*row) for row in rows), key=lambda message: message.id)

    async def _deliver_chat(self, messages: list[Outbound], holder: str) -> int:
        delivered = 0
        for position, message in enumerate(messages):
            with log_context.about(chat=message.chat_id):
                outcome = await self._deliver_one(message, holder)
            if outcome == "sent" and message.action is None:  # a topic action is no message
                self.metrics.messages_sent.inc()
            elif outcome == "failed":
                self.metrics.messages_failed.inc()
            if outcome == "given up":
                break  # another sender holds them now
            if outcome == "requeued":
                # Keep the chat's order: its later rows wait behind this one.
                await self._release([m.id for m in messages[position + 1 :]], holder)
                break
            delivered += outcome == "sent"
        return delivered

    async def _deliver_one(self, message: Outbound, holder: str) -> str:
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(message.chat_id)
            if not await self.heartbeat.holding(holder):
                log.info("outbox %s was taken over by another sender", message.id)
                return "given up"
            try:
                message_id = await self.transport.deliver(await self._placed(message))
            except RetryAfterError as slow_down:
                self.retries_after += 1
                self.metrics.retry_after.inc()
                await self.limiter.pause(message.chat_id, slow_down.seconds)
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
            except UncertainDeliveryError as unknown:
                # Sending it again could show it twice (docs/telegram.md): recorded as
                # delivered, with no message id when the last part is the one in doubt.
                log.warning(
                    "outbox %s to %s may not have been delivered (%s); not sent again",
                    message.id,
                    message.chat_id,
                    unknown,
                )
                await self._sent(message.id, unknown.message_id)
                return "sent"
            else:
                if message.action == "topic_open":
                    await self._topic_opened(message, message_id)
                await self._sent(message.id, message_id)
                return "sent"
            if attempt >= self.max_attempts:
                log.warning(
                    "outbox %s to %s: %s; trying again later", message.id, message.chat_id, error
                )
                await self._requeue(message.id, error, attempt)
                return "requeued"

    async def _placed(self, message: Outbound) -> Outbound:
        """A row for a case's support topic gets the topic's thread, which an earlier row of the
        same chat may only just have created."""
        if message.topic_of is None or message.action == "topic_open":
            return message
        async with self.db.session() as session:
            thread = await session.scalar(
                select(SupportTopic.thread_id).where(SupportTopic.case_id == message.topic_of)
            )
        if thread is None:
            raise TemporaryError(f"the topic of case {message.topic_of} is not created yet")
        return message.in_thread(thread)

    async def _topic_opened(self, message: Outbound, thread_id: int) -> None:
        # Stored at once: the next rows of this chat are sent into the topic.
        async with self.db.transaction() as session:
            await session.execute(
                update(SupportTopic)
                .where(SupportTopic.case_id == message.topic_of)
                .values(thread_id=thread_id)
            )

    async def _sent(self, row_id: int, message_id: int | None) -> None:
        """Delivered. Deliveries are recorded a few at a time (a transaction each would make the
        sender, not Telegram, the limit); the marks wait at most SENT_FLUSH_SECONDS, which is
        the window in which a crash could make one message go out twice."""
        self._unmarked.append((row_id, message_id))
        waited = time.monotonic() - self._unmarked_since if len(self._unmarked) > 1 else 0.0
        if len(self._unmarked) == 1:
            self._unmarked_since = time.monotonic()
        if len(self._unmarked) >= SENT_FLUSH_ROWS or waited >= SENT_FLUSH_SECONDS:
            await self._flush_sent()

    @unit_of_work
    async def _flush_sent(self) -> None:
        if not self._unmarked:
            return
        async with self._marks() as marks, self.db.transaction() as session:
            await self._retire(session, marks)

    @asynccontextmanager
    async def _marks(self) -> AsyncIterator[list[tuple[int, int | None]]]:
        """The deliveries not yet recorded, taken for one transaction to record; given back
        if it fails, so they are recorded later rather than sent again."""
        marks, self._unmarked = self._unmarked, []
        try:
            yield marks
        except BaseException:
            self._unmarked = marks + self._unmarked
            raise

    async def _retire(self, session: AsyncSession, marks: list[tuple[int, int | None]]) -> None:
        """Delivered rows leave the outbox for the transcript."""
        if marks:
            await self._outbox.retire(session, marks, self.clock.now())

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

    async def _release(self, row_ids: list[int], holder: str) -> None:
        if not row_ids:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(row_ids),
                    OutboxMessage.status == "sending",
                    OutboxMessage.held_by == holder,  # not if another sender took them over
                )
                .values(status="pending", locked_until=None)
            )


def _by_chat(rows: list[Outbound]) -> dict[int, list[Outbound]]:
    by_chat: dict[int, list[Outbound]] = defaultdict(list)
    for row in rows:
        by_chat[row.chat_id].append(row)
    return by_chat
