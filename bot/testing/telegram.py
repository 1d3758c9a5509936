"""The bot on a fake Bot API server, and a sandbox channel that talks to it as Telegram users do.

With these, a conversation written for the sandbox (`await anna.click("Accept")`) runs through
aiogram or python-telegram-bot, over polling or a webhook: updates go in through the server,
replies come out of it.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app import App
from bot.config.settings import SenderSettings, TelegramSettings
from bot.engine.events import Author, Outcome
from bot.rendering import Renderer
from bot.runtime.http_server import AddRoutes, Listen
from bot.runtime.telegram.roles import Role
from bot.runtime.telegram.service import TelegramService, make_adapter
from bot.sandbox.memory import Delivered
from bot.storage.media import MediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import InboxUpdate, OutboxMessage
from bot.testing.botapi import FakeBotAPI, SentMessage

WEBHOOK_SECRET = "test-webhook-secret"  # noqa: S105 - the fake server's, for tests
SETTLE_TIMEOUT = 15.0
# The engine benchmark and most tests are not about Telegram's limits; these let them through.
UNLIMITED = SenderSettings(
    per_chat_per_second=10_000, global_per_second=100_000, group_per_minute=1_000_000
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Mode:
    transport: str  # aiogram or ptb
    webhook: bool

    @classmethod
    def parse(cls, name: str) -> Mode:
        transport, _, delivery = name.partition("-")
        return cls(transport, delivery == "webhook")


@asynccontextmanager
async def running_bot(
    app: App,
    server: FakeBotAPI,
    mode: Mode,
    *,
    media_dir: Path,
    media: MediaStore | None = None,
    sender: SenderSettings = UNLIMITED,
    max_photo_bytes: int = 10 * 1024 * 1024,
    role: Role = Role.ALL,
    sweep_every: float | None = None,
    routes: Sequence[AddRoutes] = (),
    http: Listen | None = None,
) -> AsyncIterator[TelegramService]:
    """`returndesk run --role ROLE` in this process, against `server`, until the block ends;
    with `routes` served on the webhook's port (`service.settings.webhook_port`) or, polling,
    at `http`. Photos go to `media`, or to the folder `media_dir` (the default store) when it
    is None."""
    port = free_port()
    settings = TelegramSettings(
        token=server.token,
        api_url=server.base_url,
        webhook_url=f"http://127.0.0.1:{port}" if mode.webhook else None,
        webhook_secret=WEBHOOK_SECRET if mode.webhook else None,
        webhook_host="127.0.0.1",
        webhook_port=port,
        media_dir=media_dir,
        max_photo_bytes=max_photo_bytes,
    )
    service = TelegramService(
        app,
        make_adapter(mode.transport, settings, media or LocalMediaStore(media_dir)),
        settings,
        sender,
        sweep_every=sweep_every,
        role=role,
        routes=routes,
        http=http,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await _ready(server, mode, role, task)
        yield service
    finally:
        stop.set()
        await task


async def _ready(server: FakeBotAPI, mode: Mode, role: Role, task: asyncio.Task[None]) -> None:
    for _ in range(int(SETTLE_TIMEOUT / 0.01)):
        if task.done():
            task.result()  # the bot died starting: show why
        if not role.takes_updates:
            started = not role.calls_telegram or server.calls["getMe"] > 0
        elif mode.webhook:
            started = server.webhook is not None
        else:
            started = server.calls["getUpdates"] > 0
        if started:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the bot did not start")


class TelegramChannel:
    """A sandbox channel through the Bot API server: every action is a real update."""

    def __init__(self, app: App, server: FakeBotAPI) -> None:
        self.app = app
        self.server = server
        self.renderer: Renderer = app.renderer
        self._replays: dict[str, int] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    # -- reading -----------------------------------------------------------------------------
    def inbox(self, chat_id: int) -> list[Delivered]:
        """The chat as its reader sees it: photos sent just before a text belong with it."""
        shown: list[Delivered] = []
        photos: list[str] = []
        for sent in self.server.messages_for(chat_id):
            attachment = sent.photo or sent.document
            if attachment is not None and sent.uploaded and shown:
                # Files the bot made follow the text that introduces them.
                shown[-1] = replace(
                    shown[-1], uploads=(*shown[-1].uploads, self._upload(sent, attachment))
                )
                continue
            if attachment is not None and not sent.text:
                photos.append(attachment)
                continue
            shown.append(
                Delivered(
                    message_id=sent.message_id,
                    chat_id=chat_id,
                    text=sent.text or "",
                    buttons=tuple(tuple((t, d or "") for t, d in row) for row in sent.buttons),
                    photos=tuple(photos),
                    thread_id=sent.thread_id,
                )
            )
            photos = []
        return shown

    def _upload(self, sent: SentMessage, file_id: str) -> tuple[str, str, bytes]:
        """(kind, name, content) as the memory channel has it; Telegram keeps no photo's name."""
        content = self.server.file_content(file_id)
        if sent.document is not None:
            return "document", sent.telegram_fields["document"]["file_name"], content
        return "photo", "", content

    # -- acting ------------------------------------------------------------------------------
    def _user(self, author: Author) -> dict[str, Any]:
        return self.server.user(author.id, author.name or str(author.id), author.language_code)

    async def text(
        self, author: Author, chat_id: int, text: str, key: str | None, thread_id: int | None = None
    ) -> Outcome:
        update = self.server.text_update(
            self._user(author), text, chat_id=chat_id, thread_id=thread_id
        )
        return await self._push(update, key)

    async def photo(
        self,
        author: Author,
        chat_id: int,
        caption: str | None,
        size: int,
        thread_id: int | None = None,
    ) -> Outcome:
        update = self.server.photo_update(
            self._user(author), size=size, caption=caption, chat_id=chat_id, thread_id=thread_id
        )
        return await self._push(update, None)

    async def unsupported(self, author: Author, chat_id: int, what: str) -> Outcome:
        user = self._user(author)
        match what:
            case "sticker":
                update = self.server.sticker_update(user)
            case "voice":
                update = self.server.voice_update(user)
            case _:
                update = self.server.document_update(user, mime_type="application/pdf", size=1000)
        return await self._push(update, None)

    async def press(
        self, author: Author, chat_id: int, payload: str, message: Delivered | None, key: str | None
    ) -> Outcome:
        sent = self._message(chat_id, message)
        update = self.server.callback_update(self._user(author), sent, payload)
        outcome = await self._push(update, key)
        answer = self.server.callback_answers.get(update["callback_query"]["id"])
        outcome.callback_answer = answer.text if answer else None
        return outcome

    def _message(self, chat_id: int, message: Delivered | None) -> SentMessage:
        """The bot's message a button is pressed on; a forged press uses the newest one."""
        sent = self.server.messages_for(chat_id)
        if message is not None:
            return next(s for s in sent if s.message_id == message.message_id)
        with_buttons = [s for s in sent if s.buttons]
        if with_buttons:
            return with_buttons[-1]
        if sent:
            return sent[-1]
        raise AssertionError(f"chat {chat_id} has no message from the bot to press a button on")

    async def _push(self, update: dict[str, Any], key: str | None) -> Outcome:
        if key is not None:
            # The same key is the same Telegram update: a replay.
            update["update_id"] = self._replays.setdefault(key, self.server.next_update_id())
        update_id = await self.server.push_update(update)
        await self.server.wait_delivered(update_id, timeout=SETTLE_TIMEOUT)
        await self.settled()
        return Outcome()

    async def settled(self) -> None:
        """Wait until everything received is applied and everything owed is delivered: no
        update left in the inbox, no outbox row pending or being sent."""
        unsent = select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
        unapplied = select(func.count()).select_from(InboxUpdate)
        busy = select(unsent.scalar_subquery() + unapplied.scalar_subquery())
        for _ in range(int(SETTLE_TIMEOUT / 0.005)):
            async with self.app.db.session() as session:
                if not await session.scalar(busy):
                    return
            await asyncio.sleep(0.005)
        raise TimeoutError("the outbox did not drain")
