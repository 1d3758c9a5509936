"""Feeds Telegram updates to the engine, exactly once and in order per chat.

Polling: each batch from getUpdates is stored in the inbox, in one statement, before the next
getUpdates call confirms it to Telegram; its updates are then applied while the next batch is
fetched. An update leaves the inbox once applied, so what a crash leaves there is applied at the
next start (and one applied but not yet removed is ignored then as a replay: the engine claims
each update's key once). Webhook: the HTTP answer is sent only after the update is applied, so
Telegram delivers it again if the process dies first. Either way a chat's updates go through
its lane one at a time, in order, while chats run in parallel.

An update that keeps failing while the database answers is set aside after a few tries, and its
chat goes on; while the database does not answer, nothing is counted against the update
(docs/poison-updates.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import DataError, DBAPIError, StatementError

from bot.engine.processor import Engine
from bot.runtime.telegram.adapter import TelegramAdapter
from bot.runtime.telegram.answers import answer_callback
from bot.runtime.telegram.dead_letters import DeadLetters, Poisoned, last_line
from bot.runtime.telegram.inbox import Inbox, Stored
from bot.runtime.telegram.lanes import ChatLanes
from bot.telemetry import log_context

log = logging.getLogger(__name__)

POLL_TIMEOUT = 20  # seconds Telegram holds a getUpdates call open
RETRY_PAUSE = 2.0
RETRY_PAUSE_CAP = 60.0
# Updates stored and not yet applied, at most: beyond it polling waits, and Telegram keeps the
# rest (for a day) until there is room.
MAX_IN_HAND = 1000
# Tries of an update that fails while the database answers, before it is set aside
# (RETURNDESK_UPDATE_ATTEMPTS); the pause between tries starts at TRY_AGAIN and doubles.
ATTEMPTS = 5
TRY_AGAIN = 1.0
PING_TIMEOUT = 5.0  # seconds the database has to answer "are you there" after a failure
T = TypeVar("T")
# How much of an update that cannot be read or stored the log line shows.
UNREADABLE_LOG_LIMIT = 10_000
Applied = Literal["applied", "set aside", "left"]


class UpdateLeftError(Exception):
    """The bot is stopping, or the database does not answer, before an update could be applied:
    the webhook answers with an error, and Telegram sends the update again."""


class TelegramRunner:
    def __init__(
        self,
        *,
        engine: Engine,
        adapter: TelegramAdapter[Any],
        poll_timeout: int = POLL_TIMEOUT,
        max_in_hand: int = MAX_IN_HAND,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.poll_timeout = poll_timeout
        self.max_in_hand = max_in_hand
        self.attempts = attempts
        self.inbox = Inbox(engine.db, engine.clock)
        self.dead_letters = DeadLetters(engine.db, engine.clock, engine.renderer, engine.shop)
        self.lanes = ChatLanes()
        self._answers: set[asyncio.Task[None]] = set()
        self._in_hand: set[str] = set()  # keys of stored updates handed to a lane
        self._stopping = False
        self._halt = asyncio.Event()  # set with _stopping: cuts a pause between tries short
        self._removal_stop = asyncio.Event()
        self._removal: asyncio.Task[None] | None = None

    # -- lifetime ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Begin removing applied updates from the inbox, and apply what the last run left
        there (it was stored, and maybe confirmed to Telegram, but not applied)."""
        self._removal = asyncio.create_task(self.inbox.remove_applied(self._removal_stop))
        for stored in await self.inbox.leftovers(self._bot_id):
            try:
                update = self.adapter.parse_update(stored.data)
            except Exception:
                # It would fail the same way at every start: set aside, with what it was.
                await self._set_aside(self._poisoned(stored, None), traceback.format_exc(), 1)
                continue
            self._take(stored, update)

    async def finish(self) -> None:
        """Apply the updates in hand, wait for their button answers, and remove them from the
        inbox. An update that keeps failing is left there for the next start."""
        self._stopping = True
        self._halt.set()
        await self.lanes.idle()
        await self.answered()
        self._removal_stop.set()
        if self._removal is not None:
            await self._removal

    @property
    def _bot_id(self) -> int:
        assert self.adapter.identity is not None, "the adapter is started first"
        return self.adapter.identity.id

    # -- applying ----------------------------------------------------------------------------
    async def handle(self, update: Any, data: dict[str, Any]) -> None:
        """Apply one update now, in its chat's turn (the webhook's way). One that keeps failing
        is set aside and this returns, so the webhook answers 200 and Telegram does not send it
        again and again; UpdateLeftError if it was left for Telegram to send again. `data` is
        the update as Telegram sent it, kept if it is set aside."""
        parts = self.adapter.read(update)
        if parts is None:
            return
        key = self.adapter.key(parts.update_id)

        def poisoned() -> Poisoned:
            return self._poisoned(Stored(key, parts.update_id, parts.chat_id, data), update)

        async def job() -> None:
            with log_context.about(chat=parts.chat_id):
                done = await self._applying(key, update, poisoned, None, wait_for_database=False)
            if done == "left":
                raise UpdateLeftError(f"update {key} is left for Telegram to send again")

        await self.lanes.run(parts.chat_id, job)

    async def apply_once(self, update: Any) -> None:
        """Apply one update now, with no retry (`returndesk inbox retry`), and answer its
        button if it was a press."""
        await self._apply(update, None)
        await self.answered()

    async def _applying(
        self,
        key: str,
        update: Any,
        poisoned: Callable[[], Poisoned],
        applied: Callable[[], None] | None,
        *,
        wait_for_database: bool,
    ) -> Applied:
        """Apply an update, trying again after a failure (only one before or outside the
        engine's transaction gets here: the engine records what it applied, refused or met a
        bug in). A failure while the database answers counts against the update, which is set
        aside after `attempts` of them; one while the database does not answer is an outage,
        waited out (`wait_for_database`) or left for Telegram to send again."""
        failures = 0
        pause = TRY_AGAIN
        while True:
            try:
                await self._apply(update, applied)
                return "applied"
            except Exception as error:
                if self._stopping:
                    log.warning("update %s failed and is left for the next start: %r", key, error)
                    return "left"
                if not await self._database_answers():
                    if not wait_for_database:
                        log.warning("update %s failed; no answer from the database: %r", key, error)
                        return "left"
                    log.warning(
                        "update %s failed and the database does not answer; trying it again in "
                        "%.0fs, without counting it against the update",
                        key,
                        pause,
                        exc_info=True,
                    )
                else:
                    failures += 1
                    if failures >= self.attempts:
                        trace = traceback.format_exc()
                        if await self._set_aside(poisoned(), trace, failures):
                            return "set aside"
                    else:
                        log.warning(
                            "update %s failed (try %s of %s); trying it again in %.0fs",
                            key,
                            failures,
                            self.attempts,
                            pause,
                            exc_info=True,
                        )
            if not await self._paused(pause):
                return "left"
            pause = min(RETRY_PAUSE_CAP, pause * 2)

    async def _database_answers(self) -> bool:
        try:
            await asyncio.wait_for(self.engine.db.ping(), PING_TIMEOUT)
        except Exception:
            return False
        return True

    async def _paused(self, seconds: float) -> bool:
        """Wait before the next try; False if the bot began stopping meanwhile."""
        try:
            await asyncio.wait_for(self._halt.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _set_aside(self, update: Poisoned, error: str, attempts: int) -> bool:
        try:
            letter = await self.dead_letters.set_aside(update, error, attempts)
        except Exception:
            log.exception("could not set update %s aside; it stays where it was", update.key)
            return False
        self._in_hand.discard(update.key)
        self.engine.metrics.dead_lettered.inc()
        log.error(
            "update %s of chat %s failed %s times and is set aside as dead letter %s "
            "(see `returndesk inbox`): %s",
            update.key,
            update.chat_id,
            attempts,
            letter,
            last_line(error),
        )
        for listener in self.engine.listeners:  # its person is owed a reply
            listener()
        return True

    def _poisoned(self, stored: Stored, update: Any | None) -> Poisoned:
        """What is kept of an update set aside, and whom to tell."""
        try:
            parts = self.adapter.read(update) if update is not None else None
        except Exception:
            parts = None
        return Poisoned(
            key=stored.key,
            bot_id=self._bot_id,
            update_id=stored.update_id,
            chat_id=stored.chat_id,
            data=stored.data,
            thread_id=parts.thread_id if parts else None,
            user_id=parts.user_id if parts else None,
            language_code=parts.language_code if parts else None,
        )

    async def _apply(self, update: Any, applied: Callable[[], None] | None) -> None:
        """Store and apply one update, then answer its button press (if it was one)."""
        incoming = await self.adapter.to_incoming(update)
        if incoming is None:
            return
        outcome = await self.engine.process(incoming)
        if not incoming.callback_id:
            if applied is not None:
                applied()
            return
        # Off the chat's lane: the update is applied, and the answer only stops a spinner.
        task = asyncio.create_task(self._answer(incoming.callback_id, outcome.callback_answer))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)
        if applied is not None:
            task.add_done_callback(lambda _: applied())

    async def _answer(self, callback_id: str, text: str | None) -> None:
        await answer_callback(self.adapter, callback_id, text)  # tried again on 429 and 5xx

    async def answered(self) -> None:
        """Wait for the button answers still on their way (before stopping)."""
        while self._answers:
            await asyncio.gather(*self._answers)

    def stored(self, data: dict[str, Any]) -> tuple[Stored, Any] | None:
        """A fetched update's inbox row, which keeps the JSON Telegram sent as it was sent, and
        the update as the framework reads it; None for kinds of update the bot ignores. Raises
        whatever the framework raises on JSON it cannot read."""
        update = self.adapter.parse_update(data)
        parts = self.adapter.read(update)
        if parts is None:
            return None
        row = Stored(
            key=self.adapter.key(parts.update_id),
            update_id=parts.update_id,
            chat_id=parts.chat_id,
            data=data,
        )
        return row, update

    def _unreadable(self, data: Any, doing: str, why: BaseException) -> None:
        """An update that cannot be read or stored: it is confirmed with its batch all the
        same, so that it does not come back for ever and hold up the updates after it. The log
        keeps it, as Telegram sent it, for a person to look at."""
        text = json.dumps(data, ensure_ascii=False, default=repr)
        if len(text) > UNREADABLE_LOG_LIMIT:
            text = text[:UNREADABLE_LOG_LIMIT] + "..."
        log.error("an update could not be %s and is left out (%r): %s", doing, why, text)

    def _take(self, stored: Stored, update: Any) -> None:
        """Hand a stored update to its chat's lane; it leaves the inbox once applied."""
        if stored.key in self._in_hand:
            return
        self._in_hand.add(stored.key)

        def applied() -> None:
            self._in_hand.discard(stored.key)
            self.inbox.applied(stored.key)

        async def job() -> None:
            poisoned = partial(self._poisoned, stored, update)
            with log_context.about(chat=stored.chat_id):
                done = await self._applying(
                    stored.key, update, poisoned, applied, wait_for_database=True
                )
            if done == "left":
                self._in_hand.discard(stored.key)  # in the inbox, for the next start

        self.lanes.submit(stored.chat_id, job)

    # -- long polling ------------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until `stop` is set."""
        offset: int | None = None
        while not stop.is_set():
            if await _unless_stopped(self.lanes.below(self.max_in_hand), stop) is None:
                break
            fetch = self.adapter.get_updates(offset, self.poll_timeout)
            try:
                fetched = await _unless_stopped(fetch, stop)
                if fetched is None:
                    break  # nothing fetched is lost: it was not confirmed
                updates = fetched.result()
                if updates:
                    await self._store(updates)
                    offset = _next_offset(updates, offset)
            except Exception:
                log.exception("polling failed; the same updates come again in %.0fs", RETRY_PAUSE)
                await asyncio.sleep(RETRY_PAUSE)
        if offset is not None:
            await self._confirm(offset)

    async def _store(self, updates: list[dict[str, Any]]) -> None:
        """Store a batch in the inbox, then hand its updates to their lanes. Until this returns,
        nothing of the batch is confirmed to Telegram. An update that cannot be read or stored
        is set aside: it must not keep the rest of its batch from being stored and confirmed."""
        batch: list[tuple[Stored, Any]] = []
        for data in updates:
            try:
                taken = self.stored(data)
            except Exception as error:
                self._unreadable(data, "read", error)
                continue
            if taken is not None and taken[0].key not in self._in_hand:
                batch.append(taken)
        kept = await self._keep([stored for stored, _ in batch])
        for stored, update in batch:
            if stored.key in kept:
                self._take(stored, update)

    async def _keep(self, rows: list[Stored]) -> set[str]:
        """Store rows in the inbox, in one statement; if the database refuses what it was given,
        one at a time, setting aside those it refuses. Returns the keys stored. Any other
        failure (the database is away) raises: nothing is confirmed, and it all comes again."""
        try:
            await self.inbox.store(self._bot_id, rows)
            return {row.key for row in rows}
        except Exception as error:
            if not _refused(error):
                raise
            log.warning("storing a batch of %s updates failed; storing them one by one", len(rows))
        kept: set[str] = set()
        for row in rows:
            try:
                await self.inbox.store(self._bot_id, [row])
            except Exception as error:
                if not _refused(error):
                    raise
                self._unreadable(row.data, "stored", error)
            else:
                kept.add(row.key)
        return kept

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram the last batch is stored, so a restart does not fetch it again (it
        would be found in the inbox, or applied already, anyway)."""
        try:
            await self.adapter.get_updates(offset, 0)
        except Exception as error:
            log.info("could not confirm updates before %s: %s", offset, error)


def _refused(error: Exception) -> bool:
    """The database (or the driver, encoding it) refused the data it was given, as opposed to
    being away: PostgreSQL's jsonb refuses a NUL character, for one."""
    if isinstance(error, DBAPIError):
        # SQLSTATE class 22 is PostgreSQL's "data exception"; SQLAlchemy reports some of them
        # (asyncpg's) as a plain DBAPIError.
        sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
        data = isinstance(error, DataError) or sqlstate.startswith("22")
        return data and not error.connection_invalidated
    return isinstance(error, StatementError | TypeError | ValueError | RecursionError)


def _next_offset(updates: list[dict[str, Any]], offset: int | None) -> int | None:
    """The offset that confirms a batch: past its highest update_id."""
    ids = [
        data["update_id"]
        for data in updates
        if isinstance(data, dict) and type(data.get("update_id")) is int
    ]
    return max(ids) + 1 if ids else offset


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> asyncio.Future[T] | None:
    """`work`, done, or None (and `work` cancelled) if `stop` is set first."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        return None
    return task
