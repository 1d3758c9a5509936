"""One lane per chat: a chat's updates are applied one after another, in the order they were
handed in, while different chats' updates run in parallel."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

Job = Callable[[], Awaitable[None]]


class ChatLanes:
    def __init__(self) -> None:
        self._queues: dict[int, deque[tuple[Job, asyncio.Future[None]]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._waiting = 0  # jobs handed in and not finished, in all lanes
        self._changed = asyncio.Event()

    def submit(self, chat_id: int, job: Job) -> asyncio.Future[None]:
        """Queue `job` behind the chat's earlier jobs; the future tells when it finished."""
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(chat_id)
        if queue is None:
            queue = self._queues[chat_id] = deque()
            worker = asyncio.create_task(self._work(chat_id, queue))
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        queue.append((job, finished))
        self._waiting += 1
        return finished

    async def run(self, chat_id: int, job: Job) -> None:
        """Run `job` in the chat's turn and wait for it."""
        await self.submit(chat_id, job)

    async def _work(self, chat_id: int, queue: deque[tuple[Job, asyncio.Future[None]]]) -> None:
        while queue:
            # The job stays at the head while it runs, so a job handed in meanwhile queues
            # behind it instead of starting a second worker for the chat.
            job, finished = queue[0]
            try:
                await job()
            except Exception as error:
                if not finished.done():
                    finished.set_exception(error)
            else:
                if not finished.done():
                    finished.set_result(None)
            finally:
                queue.popleft()
                self._waiting -= 1
                self._changed.set()
        del self._queues[chat_id]

    def __len__(self) -> int:
        return self._waiting

    async def below(self, limit: int) -> None:
        """Wait until fewer than `limit` jobs are waiting or running."""
        while self._waiting >= limit:
            self._changed.clear()
            await self._changed.wait()

    async def idle(self) -> None:
        """Wait until every job handed in has finished."""
        while self._workers:
            await asyncio.gather(*self._workers)
