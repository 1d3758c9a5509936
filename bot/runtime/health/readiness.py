"""/readyz: whether this worker can do its job now. Four checks, each named in the answer:
the database answers, its schema has every migration this code has, Telegram answers getMe
(asked at most every RETURNDESK_HEALTH_TELEGRAM_EVERY seconds), and the oldest reply still
owed is younger than RETURNDESK_HEALTH_OUTBOX_MAX_AGE (else the sender is stuck, or Telegram
does not take what it sends)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.runtime.health import gauges
from bot.storage.database import Database

TIMEOUT = 5.0  # seconds each check may take: a load balancer's probe waits for no longer


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class Readiness:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        telegram: Callable[[], Awaitable[object]] | None,
        outbox_max_age: float,
        telegram_every: float,
    ) -> None:
        self.db = db
        self.clock = clock
        self.telegram = telegram
        self.outbox_max_age = outbox_max_age
        self.telegram_every = telegram_every
        self._telegram_said: tuple[float, Check] | None = None  # (monotonic time, answer)

    async def checks(self) -> list[Check]:
        database, telegram = await asyncio.gather(self._database(), self._telegram())
        return [*database, *([telegram] if telegram else [])]

    async def _database(self) -> list[Check]:
        try:
            missing = await asyncio.wait_for(self.db.migrations_missing(), TIMEOUT)
        except Exception as error:
            # Said by kind only: a driver's message may quote the URL, with its password.
            why = f"no answer ({type(error).__name__})"
            return [
                Check("database", ok=False, detail=why),
                Check("migrations", ok=False, detail="unknown: the database did not answer"),
                Check("outbox", ok=False, detail="unknown: the database did not answer"),
            ]
        checks = [
            Check("database", ok=True, detail="answers"),
            Check("migrations", ok=True, detail="current")
            if not missing
            else Check(
                "migrations",
                ok=False,
                detail=f"not applied: {', '.join(missing)} (returndesk db upgrade)",
            ),
        ]
        try:
            async with self.db.reading() as tx:
                owed = await asyncio.wait_for(gauges.outbox(tx), TIMEOUT)
        except Exception as error:
            return [
                *checks,
                Check("outbox", ok=False, detail=f"unreadable ({type(error).__name__})"),
            ]
        age = (self.clock.now() - owed.oldest).total_seconds() if owed.oldest else 0.0
        ok = age < self.outbox_max_age
        detail = f"{owed.depth} owed, the oldest {age:.0f}s old"
        if not ok:
            detail += f" (limit {self.outbox_max_age:.0f}s: RETURNDESK_HEALTH_OUTBOX_MAX_AGE)"
        return [*checks, Check("outbox", ok=ok, detail=detail)]

    async def _telegram(self) -> Check | None:
        if self.telegram is None:
            return None
        said = self._telegram_said
        if said is not None and time.monotonic() - said[0] < self.telegram_every:
            return said[1]
        try:
            await asyncio.wait_for(self.telegram(), TIMEOUT)
            check = Check("telegram", ok=True, detail="getMe answered")
        except Exception as error:
            # The library's words may quote the URL, and the token is in it.
            check = Check("telegram", ok=False, detail=f"getMe failed ({type(error).__name__})")
        self._telegram_said = (time.monotonic(), check)
        return check
