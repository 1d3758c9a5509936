"""The sweeper: finds promises at their warning point or past their due time, and has the
engine act on each once (handlers/support/sweeps.py says what it does).

Each action is an event of the bot's own with a key naming the promise and the action: two
sweepers, in two processes, that find the same promise send the same key, and the engine
applies it once. What fell due while the bot was down is found on the next sweep and acted on
once; a promise that passed both points while nobody swept goes straight to its breach.

The same holds for a resolved case's satisfaction survey (docs/aftersales.md): one key per
case, so it is asked once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.engine.events import Author, Incoming
from bot.engine.own_events import Breach, Delivered, Remind, Survey
from bot.engine.payloads import Payload
from bot.engine.processor import Engine
from bot.services import deliveries, promises, surveys
from bot.storage.database import Database
from bot.telemetry import log_context
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)
SWEEPER = Author(0, "sweeper")
_EVENTS: dict[str, Callable[[int], Payload]] = {
    "breach": lambda promise_id: Breach(promise_id=promise_id),
    "remind": lambda promise_id: Remind(promise_id=promise_id),
    "survey": lambda case_id: Survey(case_id=case_id),
    "delivered": lambda case_id: Delivered(case_id=case_id),
}


@dataclass
class Sweep:
    reminded: int = 0
    breached: int = 0
    surveyed: int = 0
    delivered: int = 0  # reshipments counted as delivered by the policy's delay
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
            for action, row_id, chat_id in found:
                payload = _EVENTS[action](row_id)
                # A survey's and a delivery's row is their case: log lines meanwhile name it.
                case = row_id if action in {"survey", "delivered"} else None
                with log_context.about(case=case):
                    outcome = await self.engine.process(
                        Incoming(
                            key=f"sweep:{action}:{row_id}",
                            author=SWEEPER,
                            chat_id=chat_id,
                            payload=payload.pack(),
                            system=True,
                        )
                    )
                if outcome.duplicate:
                    result.already_done += 1
                    continue
                fresh += 1
                if action == "breach":
                    result.breached += 1
                    self.metrics.promises_breached.inc()
                elif action == "survey":
                    result.surveyed += 1
                elif action == "delivered":
                    result.delivered += 1
                else:
                    result.reminded += 1
                    self.metrics.promises_reminded.inc()
            if not fresh:
                return result  # what is left is another sweeper's, or was done before

    async def _due(self) -> list[tuple[str, int, int]]:
        """(action, promise or case, the buyer's chat) for promises due or at their warning
        point, then surveys due."""
        now = self.clock.now()
        async with self.db.reading() as tx:
            breaches, reminders = await promises.due_for_sweep(tx, now)
            asks = await surveys.due(tx, now)
            arrivals = await deliveries.due(tx, now)
        return (
            [("breach", c, chat) for c, chat in breaches]
            + [("remind", c, chat) for c, chat in reminders]
            + [("survey", c, chat) for c, chat in asks]
            + [("delivered", c, chat) for c, chat in arrivals]
        )

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Sweep every `every` seconds until `stop` is set; the first sweep is at once."""
        while not stop.is_set():
            try:
                done = await self.sweep()
                if done.reminded or done.breached or done.surveyed:
                    log.info(
                        "sweep: %s reminded, %s breached, %s surveyed",
                        done.reminded,
                        done.breached,
                        done.surveyed,
                    )
            except Exception:
                log.exception("sweep failed; trying again in %ss", every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
