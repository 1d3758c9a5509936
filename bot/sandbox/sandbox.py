"""The engine with an in-memory messenger: what the demo, the terminal chat and the tests run."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from bot.app import App, build_app
from bot.clock import Clock
from bot.config.settings import MAX_PHOTO_BYTES
from bot.engine.events import Author, Incoming, Outcome, Photo
from bot.rendering import Renderer, locale_for
from bot.runtime.outbox.limits import NoLimits
from bot.runtime.outbox.sender import OutboxSender
from bot.sandbox.channel import Channel
from bot.sandbox.memory import Delivered, MemoryTransport
from bot.sandbox.people import Participant
from bot.services.importer import ImportReport, import_orders
from bot.storage.database import Database
from bot.storage.media import MediaStore, MediaUnavailableError


class Sandbox:
    """Owns an App and the people talking to it through a channel (the engine's, by default)."""

    def __init__(
        self, app: App, channel: Channel | None = None, *, keep_photos: bool = False
    ) -> None:
        self.app = app
        self.channel: Channel = channel or EngineChannel(app, keep_photos=keep_photos)
        self.people: dict[int, Participant] = {}

    @classmethod
    async def open(
        cls,
        *,
        clock: Clock,
        database_url: str | None = None,
        db: Database | None = None,
        config: Path | None = None,
        migrate: bool = True,
        media: MediaStore | None = None,
    ) -> Sandbox:
        """With `media`, the photos people send are kept there, as a Telegram adapter keeps
        them; without, they are only named (the demo and the terminal chat keep nothing)."""
        app = await build_app(
            database_url=database_url,
            db=db,
            config=config,
            clock=clock,
            migrate=migrate,
            media=media,
        )
        return cls(app, keep_photos=media is not None)

    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def log(self) -> list[Delivered]:
        """Every message delivered, to anyone, in order (engine channel only)."""
        assert isinstance(self.channel, EngineChannel)
        return self.channel.transport.log

    def person(self, user_id: int, name: str = "", language_code: str | None = None) -> Participant:
        """Someone who writes to the bot; `language_code` is what their Telegram app reports."""
        if user_id not in self.people:
            self.people[user_id] = Participant(
                self.channel, user_id, name, language_code, locale=locale_for(language_code)
            )
        return self.people[user_id]

    async def import_orders(self, path: Path) -> ImportReport:
        async with self.app.db.unit() as tx:
            return await import_orders(
                tx, path, shop=self.app.shop, now=self.clock.now(), keys=self.app.claim_keys
            )

    async def close(self) -> None:
        await self.app.close()


class EngineChannel:
    """Events straight into the engine; the outbox delivered into memory after each one."""

    def __init__(self, app: App, *, keep_photos: bool = False) -> None:
        self.app = app
        self.keep_photos = keep_photos
        self.renderer: Renderer = app.renderer
        self.transport = MemoryTransport()
        self.sender = OutboxSender(
            db=app.db, transport=self.transport, clock=app.clock, limiter=NoLimits()
        )
        self._keys = itertools.count(1)
        self._photos = itertools.count(1)
        self.max_photo_bytes = MAX_PHOTO_BYTES

    def inbox(self, chat_id: int) -> list[Delivered]:
        return self.transport.chats[chat_id]

    async def process(self, event: Incoming) -> Outcome:
        outcome = await self.app.engine.process(event)
        await self.sender.drain()
        return outcome

    def _key(self, key: str | None) -> str:
        return key or f"sandbox:{next(self._keys)}"

    async def text(
        self, author: Author, chat_id: int, text: str, key: str | None, thread_id: int | None = None
    ) -> Outcome:
        return await self.process(
            Incoming(
                key=self._key(key),
                author=author,
                chat_id=chat_id,
                text=text,
                thread_id=thread_id,
                is_private=chat_id > 0,
            )
        )

    async def photo(
        self,
        author: Author,
        chat_id: int,
        caption: str | None,
        size: int,
        thread_id: int | None = None,
    ) -> Outcome:
        number = next(self._photos)
        if size > self.max_photo_bytes:  # as a Telegram adapter refuses it (its _fetch)
            return await self._refused(
                author, chat_id, thread_id, "photo_too_large", self.max_photo_bytes
            )
        photo = Photo(file_id=f"photo-{number}", file_unique_id=f"uniq-{number}", size=size)
        if self.keep_photos:
            try:
                await self.app.media.put(photo.file_unique_id, photo_bytes(number, size))
            except MediaUnavailableError:  # as a Telegram adapter answers it (its _fetch)
                return await self._refused(author, chat_id, thread_id, "photo_not_stored")
            photo = replace(photo, stored_path=self.app.media.where(photo.file_unique_id))
        return await self.process(
            Incoming(
                key=self._key(None),
                author=author,
                chat_id=chat_id,
                photos=(photo,),
                caption=caption,
                thread_id=thread_id,
                is_private=chat_id > 0,
            )
        )

    async def _refused(
        self,
        author: Author,
        chat_id: int,
        thread_id: int | None,
        what: str,
        size_limit: int | None = None,
    ) -> Outcome:
        return await self.process(
            Incoming(
                key=self._key(None),
                author=author,
                chat_id=chat_id,
                unsupported=what,
                size_limit=size_limit,
                thread_id=thread_id,
                is_private=chat_id > 0,
            )
        )

    async def unsupported(self, author: Author, chat_id: int, what: str) -> Outcome:
        return await self.process(
            Incoming(key=self._key(None), author=author, chat_id=chat_id, unsupported=what)
        )

    async def press(
        self, author: Author, chat_id: int, payload: str, message: Delivered | None, key: str | None
    ) -> Outcome:
        return await self.process(
            Incoming(
                key=self._key(key),
                author=author,
                chat_id=chat_id,
                payload=payload,
                callback_id=f"cb-{next(self._keys)}",
                thread_id=message.thread_id if message else None,
                is_private=chat_id > 0,
            )
        )


def photo_bytes(number: int, size: int) -> bytes:
    """A stand-in for a photo of `size` bytes, different for each number."""
    head = b"\xff\xd8\xff\xe0" + f"sandbox photo {number}".encode()
    return (head + bytes(max(0, size - len(head))))[:size]
