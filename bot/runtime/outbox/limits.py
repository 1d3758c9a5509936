"""Telegram's published sending limits (docs/sender.md#limits): about one message a second per
chat, twenty a minute per group, thirty a second overall. They are the bot's, not a process's:
every sender of the bot spends one budget, kept in the process (one sender), in PostgreSQL or
in Redis (bot/runtime/outbox/budgets.py).

A budget keeps, for each scope (the whole bot, a chat), the time it may next send. A message
first waits for its chat; then it reserves the bot's next free slot, which also moves its
chat's next time past that slot, and waits for it. The chat is waited for before the bot's slot
is taken, so a busy group (one message in three seconds) never holds a slot the other chats
could use.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

GLOBAL = "global"
# Telegram counts "30 messages per second" and "20 messages per minute to a group" over a
# window, with no burst on top. Slots spaced exactly at the limit put message k and k+30 one
# second apart on the dot, so any delay of k on its way (a few milliseconds) would put 31 in
# Telegram's second: the bot's own slots are spaced this much wider.
HEADROOM = 0.1
# A slot woken up to this late (seconds, by this process's clock) is given up and
# another asked for: slots used late bunch up (a sender's event loop held up, then catching up)
# and would put more than the limit in one of Telegram's windows.
LATE_AFTER = 0.02
# The budget's clock (PostgreSQL's, Redis's) is read against this process's: the smallest gap
# seen between an answer's time and its arrival, over this many seconds, is the closest to
# the true one (the other answers were held up on their way), and never too small.
CLOCK_WINDOW = 30.0
RETRY_BUDGET = 1.0  # seconds before asking a budget that failed (its server away) again


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a budget answered at `now` (its own clock's time): `reserved`, a slot `wait`
    seconds from then; or not, the chat may next send `wait` seconds from then (ask again)."""

    reserved: bool
    wait: float
    now: float


class Budget(Protocol):
    async def reserve(self, chat: str, chat_interval: float, interval: float) -> Reservation:
        """Reserve the bot's next slot (every `interval` seconds) if `chat` may send now; its
        next time becomes at least the slot plus `chat_interval`."""
        ...

    async def pause(self, chat: str, seconds: float) -> None:
        """Nothing goes to `chat`, or anywhere, for `seconds`."""
        ...


class MemoryBudget:
    """The budget of one process (the default on SQLite, where one process sends)."""

    PRUNE_AT = 10_000  # chats remembered before the ones free again are forgotten

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._next: dict[str, float] = {}

    async def reserve(self, chat: str, chat_interval: float, interval: float) -> Reservation:
        now = self._monotonic()
        chat_next = self._next.get(chat, -math.inf)
        if chat_next > now:
            return Reservation(False, chat_next - now, now)
        slot = max(self._next.get(GLOBAL, -math.inf), now)
        self._next[GLOBAL] = slot + interval
        self._next[chat] = max(chat_next, slot + chat_interval)
        if len(self._next) > self.PRUNE_AT:
            self._next = {key: at for key, at in self._next.items() if at > now}
        return Reservation(True, slot - now, now)

    async def pause(self, chat: str, seconds: float) -> None:
        until = self._monotonic() + seconds
        for scope in (chat, GLOBAL):
            self._next[scope] = max(self._next.get(scope, -math.inf), until)


class RateLimiter:
    def __init__(
        self,
        *,
        per_chat_per_second: float = 1.0,
        global_per_second: float = 30.0,
        group_per_minute: float = 20.0,
        budget: Budget | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat_interval = 1.0 / per_chat_per_second
        self.group_interval = 60.0 / group_per_minute * (1 + HEADROOM)
        self.global_interval = 1.0 / global_per_second * (1 + HEADROOM)
        self.budget: Budget = budget or MemoryBudget(monotonic)
        self._monotonic = monotonic
        self.late_slots = 0  # slots given up because they were woken up to too late
        self._clock_offset, self._offset_since = math.inf, -math.inf

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may go out, and reserve the slot."""
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        while True:
            try:
                answer = await self.budget.reserve(_scope(chat_id), interval, self.global_interval)
            except Exception:
                # Its server is away: nothing is sent meanwhile, and nothing is lost.
                log.exception("the sending budget failed; asking again in %.0fs", RETRY_BUDGET)
                await asyncio.sleep(RETRY_BUDGET)
                continue
            # When the slot comes by this process's clock, however late the answer arrived.
            at = answer.now + answer.wait + self._offset(answer.now)
            if (wait := at - self._monotonic()) > 0:
                await asyncio.sleep(wait)
            if not answer.reserved:
                continue
            if self._monotonic() - at <= LATE_AFTER:
                return
            self.late_slots += 1

    def _offset(self, their_now: float) -> float:
        """This process's clock less the budget's, as closely as known from above."""
        seen = self._monotonic() - their_now
        if seen < self._clock_offset or self._monotonic() - self._offset_since > CLOCK_WINDOW:
            self._clock_offset, self._offset_since = seen, self._monotonic()
        return self._clock_offset

    async def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said "retry after": nothing more goes to that chat, or anywhere, until then."""
        try:
            await self.budget.pause(_scope(chat_id), seconds)
        except Exception:
            log.exception("the sending budget could not pause; Telegram will say so again")


def _scope(chat_id: int) -> str:
    return f"chat:{chat_id}"


class NoLimits(RateLimiter):
    """For the sandbox, tests that are not about limits, and the engine benchmark."""

    async def acquire(self, chat_id: int) -> None:
        return None

    async def pause(self, chat_id: int, seconds: float) -> None:
        return None
