"""Telegram's update queue for the bot: served to long polling, or POSTed to a webhook.

One queue serves both, as in Telegram: an update waits until getUpdates confirms it (a later
offset) or the webhook answers 2xx, and the webhook is retried until it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

import aiohttp

from bot.testing.botapi.errors import (
    JSON,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    ApiError,
    bad_request,
)
from bot.testing.botapi.params import Params

WEBHOOK_RETRY_DELAY = 0.05
WEBHOOK_TRIES = 200
WEBHOOK_TIMEOUT = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram only sends these update types to bots that ask for them by name.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class WebhookInfo:
    url: str
    secret_token: str | None


@dataclass(eq=False)  # compared by identity: a replay is a second entry with the same content
class Queued:
    """An update waiting in Telegram's queue for this bot."""

    update: JSON
    # Handed to the bot by getUpdates: a later offset above its id confirms it. Only served updates
    # are confirmed that way, so a replayed update (an id pushed again) is delivered once more.
    served: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((key for key in self.update if key != "update_id"), "unknown")


class Signal:
    """Wakes everything waiting for the fake's state to change; waiters re-check what they need.

    No wake-up is lost: a waiter takes the current event in the same step as its last check.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


class UpdateQueue:
    """The updates waiting for the bot, and how they reach it."""

    def __init__(self) -> None:
        self.webhook: WebhookInfo | None = None
        # Each webhook delivery's answers by update_id: HTTP statuses, or "error".
        self.delivery_status: dict[int, list[int | str]] = {}
        self._pending: list[Queued] = []
        self._last_update_id = 0
        self._delivered: set[int] = set()
        self._filtered: dict[int, str] = {}
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._changed = Signal()
        self._closing = False
        self._http: aiohttp.ClientSession | None = None
        self._webhook_worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._closing = False
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT))
        self._webhook_worker = asyncio.create_task(self._deliver_webhook_updates())

    async def stop(self) -> None:
        # Long polls waiting for updates answer at once.
        self._closing = True
        self._changed.notify()
        if self._webhook_worker is not None:
            self._webhook_worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_worker
        if self._http is not None:
            await self._http.close()

    def next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def push(self, update: JSON) -> int:
        """Queue an update (it has its update_id) unless the bot did not ask for its type."""
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        self._delivered.discard(update_id)  # a replay must be delivered again
        queued = Queued(update)
        if self._wanted(queued.kind):
            self._filtered.pop(update_id, None)
            self._pending.append(queued)
            self._changed.notify()
        else:
            self._filtered[update_id] = (
                f"update {update_id} is a {queued.kind!r} update, which the bot did not ask for "
                f"(allowed_updates={self._allowed_updates})"
            )
        return update_id

    async def wait_delivered(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed the update (polling) or its webhook answered 2xx."""
        deadline = asyncio.get_running_loop().time() + timeout
        while update_id not in self._delivered:
            if update_id in self._filtered:
                raise TimeoutError(self._filtered[update_id])
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pending = self.pending_updates()
                raise TimeoutError(
                    f"update {update_id} was not delivered in {timeout} s ({pending} pending)"
                )
            await self._changed.wait(remaining)

    def pending_updates(self) -> int:
        return len(self._pending)

    def _wanted(self, kind: str) -> bool:
        # Like Telegram, the filter applies when an update is created: it is never queued at all.
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _confirm_before(self, offset: int) -> None:
        if offset < 0:  # Telegram's "only the last -offset updates"
            self._pending = self._pending[offset:]
            return

        def confirmed(queued: Queued) -> bool:
            return queued.served and queued.update_id < offset

        self._delivered.update(queued.update_id for queued in self._pending if confirmed(queued))
        self._pending = [queued for queued in self._pending if not confirmed(queued)]
        self._changed.notify()

    async def get_updates(self, params: Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        if (allowed := params.json("allowed_updates")) is not None:
            self._allowed_updates = list(allowed)
        if offset:
            self._confirm_before(offset)
        # Like Telegram, a newer getUpdates ends the one still waiting with a 409.
        self._poll_generation += 1
        poll = self._poll_generation
        self._changed.notify()
        deadline = asyncio.get_running_loop().time() + timeout
        while not (ready := self._pending[:limit]) and not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await self._changed.wait(remaining)
            if poll != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
        for queued in ready:
            queued.served = True
        return [queued.update for queued in ready]

    async def set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        secret = params.text("secret_token") or None
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed)
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = WebhookInfo(url, secret) if url else None
        self._changed.notify()
        return True

    async def delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        self._changed.notify()
        return True

    async def _deliver_webhook_updates(self) -> None:
        while True:
            if self.webhook is not None and self._pending:
                await self._deliver(self._pending[0])
            else:
                await self._changed.wait(None)

    async def _deliver(self, queued: Queued) -> None:
        statuses = self.delivery_status.setdefault(queued.update_id, [])
        for _ in range(WEBHOOK_TRIES):
            webhook = self.webhook
            if webhook is None:
                return  # stays queued, for getUpdates now
            status = await self._post_update(webhook, queued.update)
            statuses.append(status)
            if isinstance(status, int) and 200 <= status < 300:
                self._delivered.add(queued.update_id)
                break
            await asyncio.sleep(WEBHOOK_RETRY_DELAY)
        # Delivered, or given up on after WEBHOOK_TRIES like Telegram eventually does.
        self._pending = [waiting for waiting in self._pending if waiting is not queued]
        self._changed.notify()

    async def _post_update(self, webhook: WebhookInfo, update: JSON) -> int | str:
        assert self._http is not None  # created by start(), like this task
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with self._http.post(webhook.url, json=update, headers=headers) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return "error"
