"""Telegram's published sending limits, kept in process: about one message a second per chat,
thirty a second overall, twenty a minute per group."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        *,
        per_chat_per_second: float = 1.0,
        global_per_second: float = 30.0,
        group_per_minute: float = 20.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat_interval = 1.0 / per_chat_per_second
        self.group_interval = 60.0 / group_per_minute
        self.global_interval = 1.0 / global_per_second
        self._monotonic = monotonic
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may go out, and reserve the slot."""
        async with self._lock:
            now = self._monotonic()
            at = max(now, self._next_global, self._next_chat.get(chat_id, 0.0))
            self._next_global = at + self.global_interval
            interval = self.group_interval if chat_id < 0 else self.chat_interval
            self._next_chat[chat_id] = at + interval
        delay = at - now
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said "retry after": nothing more goes to that chat, or anywhere, until then."""
        until = self._monotonic() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)
        self._next_global = max(self._next_global, until)


class NoLimits(RateLimiter):
    """For the sandbox, tests that are not about limits, and the engine benchmark."""

    async def acquire(self, chat_id: int) -> None:
        return None
