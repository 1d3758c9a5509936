"""The inbox of polled updates (the `inbox` table): a fetched batch is stored in one statement,
so it can be confirmed to Telegram at once, and each update is removed once it is applied.

Removal is not part of the update's own transaction: the engine already claims each update's
key once, so an update applied and not yet removed when the process dies is simply found to be
a replay at the next start. That keeps the engine's transaction free of Telegram's details and
lets removals go a batch at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.storage.database import Database, unit_of_work
from bot.storage.stores import inbox

log = logging.getLogger(__name__)
# After removing a batch, wait this long before the next, so removals under load go in
# batches rather than one statement per update.
REMOVE_PACE = 0.01
RETRY_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    update_id: int
    chat_id: int
    data: dict[str, Any]


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._applied: list[str] = []
        self._wake = asyncio.Event()

    @unit_of_work
    async def store(self, bot_id: int, updates: Sequence[Stored]) -> None:
        """Store a fetched batch, in one statement; updates stored before are left as they are."""
        if not updates:
            return
        now = self.clock.now()
        rows = [
            {
                "key": update.key,
                "bot_id": bot_id,
                "update_id": update.update_id,
                "chat_id": update.chat_id,
                "received_at": now,
                "data": update.data,
            }
            for update in updates
        ]
        async with self.db.transaction() as session:
            await inbox.store(session, rows)

    async def leftovers(self, bot_id: int) -> list[Stored]:
        """Updates stored and not applied when the bot last stopped, oldest first."""
        async with self.db.session() as session:
            return [Stored(*row) for row in await inbox.leftovers(session, bot_id)]

    def applied(self, key: str) -> None:
        """The update is applied: remove it soon (see `remove_applied`)."""
        self._applied.append(key)
        self._wake.set()

    async def remove_applied(self, stop: asyncio.Event) -> None:
        """Remove applied updates as they come, a batch at a time, until `stop` is set; then
        remove the last of them."""
        while not stop.is_set():
            waking = asyncio.ensure_future(self._wake.wait())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waking, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waking.cancel()
            stopping.cancel()
            self._wake.clear()
            if not await self.flush():
                await asyncio.sleep(RETRY_PAUSE)
            await asyncio.sleep(REMOVE_PACE)
        await self.flush()

    @unit_of_work
    async def flush(self) -> bool:
        """Remove the updates applied so far; False (and kept for later) if that failed."""
        keys, self._applied = self._applied, []
        if not keys:
            return True
        try:
            async with self.db.transaction() as session:
                await inbox.remove(session, keys)
        except Exception:
            log.exception("could not remove %s applied updates from the inbox", len(keys))
            self._applied = keys + self._applied
            return False
        return True
