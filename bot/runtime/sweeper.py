"""The sweeper: finds promises at their warning point or past their due time, and has the
engine act on each once (handlers/support/sweeps.py says what it does).

Each action is an event of the bot's own with a key naming the promise and the action: two
sweepers, in two processes, that find the same promise send the same key, and the engine
applies it once. What fell due while the bot was down is found on the next sweep and acted on
once; a promise that passed both points while nobody swept goes straight to its breach.

The same holds for a resolved case's satisfaction survey (docs/aftersales.md): one key per
case, so it is asked once; and for a month's report (docs/reports.md, "Every month"): one key
per recipient and month, so it is sent once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.engine.events import Author, Incoming
from bot.engine.own_events import Breach, Delivered, MonthlyReport, Remind, Survey
from bot.engine.payloads import Payload
from bot.engine.processor import Engine
from bot.services import deliveries, promises, report_send, surveys
from bot.services.retention import Retained, Retention
from bot.services.retention import sweep as sweep_retention
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.telemetry import log_context
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)
SWEEPER = Author(0, "sweeper")


@dataclass(frozen=True)
class _Due:
    action: str  # a field of Sweep, counted when the engine applies it
    key: str  # what makes it once: "<action>:<promise, case, or recipient and month>"
    payload: Payload
    chat_id: int  # the chat the engine orders it with
    case: int | None = None  # the case it is about, when the sweeper knows it (for the logs)


@dataclass
class Sweep:
    reminded: int = 0
    breached: int = 0
    surveyed: int = 0
    delivered: int = 0  # reshipments counted as delivered by the policy's delay
    reported: int = 0  # monthly reports settled: sent, or a month with nothing to say
    already_done: int = 0  # another sweeper (or an earlier sweep) handled them


class Sweeper:
    def __init__(
        self, *, db: Database, clock: Clock, engine: Engine, metrics: Metrics | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.engine = engine
        self.metrics = metrics or engine.metrics

    async def sweep(self) -> Sweep:
        """One pass: every promise now due or at its warning point, oldest first."""
        result = Sweep()
        while True:
            found = await self._due()
            if not found:
                return result
            fresh = 0
            for due in found:
                # A survey's and a delivery's event is about a case: log lines meanwhile name it.
                with log_context.about(case=due.case):
                    outcome = await self.engine.process(
                        Incoming(
                            key=f"sweep:{due.key}",
                            author=SWEEPER,
                            chat_id=due.chat_id,
                            payload=due.payload.pack(),
                            system=True,
                        )
                    )
                if outcome.duplicate:
                    result.already_done += 1
                    continue
                fresh += 1
                setattr(result, due.action, getattr(result, due.action) + 1)
                if due.action == "breached":
                    self.metrics.promises_breached.inc()
                elif due.action == "reminded":
                    self.metrics.promises_reminded.inc()
            if not fresh:
                return result  # what is left is another sweeper's, or was done before

    async def _due(self) -> list[_Due]:
        """Promises due or at their warning point, then surveys due, reshipments to count as
        delivered and monthly reports owed."""
        now = self.clock.now()
        async with self.db.reading() as tx:
            breaches, reminders = await promises.due_for_sweep(tx, now)
            asks = await surveys.due(tx, now)
            arrivals = await deliveries.due(tx, now)
            reports = await report_send.owed(tx, self.engine.shop, now)
        return (
            [_Due("breached", f"breach:{p}", Breach(promise_id=p), chat) for p, chat in breaches]
            + [_Due("reminded", f"remind:{p}", Remind(promise_id=p), chat) for p, chat in reminders]
            + [_Due("surveyed", f"survey:{c}", Survey(case_id=c), chat, c) for c, chat in asks]
            + [
                _Due("delivered", f"delivered:{c}", Delivered(case_id=c), chat, c)
                for c, chat in arrivals
            ]
            + [
                _Due(
                    "reported",
                    f"report:{r.seller}:{r.month}",
                    MonthlyReport(seller=r.seller, month=str(r.month)),
                    r.chat_id,
                )
                for r in reports
            ]
        )

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Sweep every `every` seconds until `stop` is set; the first sweep is at once."""
        while not stop.is_set():
            try:
                done = await self.sweep()
                if done.reminded or done.breached or done.surveyed or done.reported:
                    log.info(
                        "sweep: %s reminded, %s breached, %s surveyed, %s reports sent",
                        done.reminded,
                        done.breached,
                        done.surveyed,
                        done.reported,
                    )
            except Exception:
                log.exception("sweep failed; trying again in %ss", every)
            await self.retain_when_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    # -- personal data past its retention (docs/privacy.md) -----------------------------------
    # Set by `retain`, by whoever runs the sweeper with the settings; None: no retention.
    _retention: tuple[Retention, MediaStore] | None = None
    _retained_at: datetime | None = None

    def retain(self, rules: Retention, media: MediaStore) -> None:
        """Take retention's steps with `rules` (RETURNDESK_RETENTION_*), deleting the photos'
        copies from `media` (RETURNDESK_MEDIA_BACKEND's store)."""
        self._retention = (rules, media)

    async def retain_when_due(self) -> Retained | None:
        """Retention's step (bot/services/retention.py), at most once every
        `Retention.every` of the clock; a failure is logged and tried at the next turn."""
        now = self.clock.now()
        if self._retention is None:
            return None
        rules, media = self._retention
        if self._retained_at is not None and now - self._retained_at < rules.every:
            return None
        try:
            done = await sweep_retention(self.db, now, rules, media)
        except Exception:
            log.exception("retention sweep failed; trying again at the next sweep")
            return None
        self._retained_at = now
        if done:
            log.info("retention: %s", done)
        return done
