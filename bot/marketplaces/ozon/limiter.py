"""A small rate limiter for one Ozon client: at most N calls in any second.

Ozon allows at most 50 requests a second per Client-Id across all methods, and fewer for some
methods (docs/ozon.md); one limiter holds the global limit and one more each method that has its
own. The window slides: the times of the last N calls are kept, and a call waits until the oldest
of them is a second old.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class RateLimiter:
    def __init__(
        self,
        per_second: int,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_second = per_second
        self._now = now
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._now()
                while self._calls and now - self._calls[0] >= 1.0:
                    self._calls.popleft()
                if len(self._calls) < self.per_second:
                    self._calls.append(now)
                    return
                await self._sleep(1.0 - (now - self._calls[0]))
