"""Feeds Telegram updates to the engine, exactly once and in order per chat.

Polling: a batch from getUpdates is applied (each update in its own transaction, chats in
parallel, one chat's updates in order) before the next getUpdates call confirms it to Telegram.
A crash loses nothing: unconfirmed updates come again, and the engine ignores any it already
stored. Webhook: the HTTP answer is sent only after the update is stored, so Telegram redelivers
it if the process dies first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.engine.processor import Engine
from bot.transports.telegram.adapter import TelegramAdapter

log = logging.getLogger(__name__)

POLL_TIMEOUT = 20  # seconds Telegram holds a getUpdates call open
RETRY_PAUSE = 2.0


class ChatLanes:
    """One lock per chat, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: defaultdict[int, int] = defaultdict(int)

    @asynccontextmanager
    async def lane(self, chat_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]

    def __len__(self) -> int:
        return len(self._locks)


class TelegramRunner:
    def __init__(
        self, *, engine: Engine, adapter: TelegramAdapter[Any], poll_timeout: int = POLL_TIMEOUT
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.poll_timeout = poll_timeout
        self.lanes = ChatLanes()
        self._answers: set[asyncio.Task[None]] = set()

    async def handle(self, update: Any) -> None:
        """Store and apply one update, then answer its button press (if it was one)."""
        incoming = await self.adapter.to_incoming(update)
        if incoming is None:
            return
        async with self.lanes.lane(incoming.chat_id):
            outcome = await self.engine.process(incoming)
        if incoming.callback_id:
            # Off the update's path: the update is stored, and the answer only stops a spinner.
            task = asyncio.create_task(self._answer(incoming.callback_id, outcome.callback_answer))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)

    async def _answer(self, callback_id: str, text: str | None) -> None:
        try:
            await self.adapter.answer_callback(callback_id, text)
        except Exception as error:  # a late or lost answer harms nothing
            log.info("could not answer callback %s: %s", callback_id, error)

    async def answered(self) -> None:
        """Wait for the button answers still on their way (before stopping)."""
        while self._answers:
            await asyncio.gather(*self._answers)

    async def handle_batch(self, updates: list[Any]) -> None:
        by_chat: defaultdict[int, list[Any]] = defaultdict(list)
        for update in updates:
            parts = self.adapter.read(update)
            by_chat[parts.chat_id if parts else 0].append(update)

        async def in_order(chat_updates: list[Any]) -> None:
            for update in chat_updates:
                await self.handle(update)

        await asyncio.gather(*(in_order(chat) for chat in by_chat.values()))

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until `stop` is set; the batch in hand is finished first."""
        offset: int | None = None
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.adapter.get_updates(offset, self.poll_timeout))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()  # nothing fetched is lost: it was not confirmed
                break
            try:
                updates = fetch.result()
                if updates:
                    await self.handle_batch(updates)
                    offset = max(u.update_id for u in updates) + 1
            except Exception:
                log.exception("polling failed; the same updates come again in %.0fs", RETRY_PAUSE)
                await asyncio.sleep(RETRY_PAUSE)
        if offset is not None:
            await self._confirm(offset)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram the last batch is stored, so a restart does not fetch it again (the
        engine would ignore it anyway)."""
        try:
            await self.adapter.get_updates(offset, 0)
        except Exception as error:
            log.info("could not confirm updates before %s: %s", offset, error)
