"""What a Telegram framework adapter provides, and what all of them share.

An adapter is a `Transport` for the outbox sender and a source of updates. The shared parts
live here: splitting long texts, sending photos before their text, falling back to plain text if
Telegram rejects the HTML, and turning a message's parts into an `Incoming` event.
"""

from __future__ import annotations

import logging
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from bot.engine.events import Author, Incoming, Photo
from bot.rendering import plain_text
from bot.runtime.outbox.transport import (
    Outbound,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    UncertainDeliveryError,
    split_text,
)
from bot.storage.media import MediaStore, MediaUnavailableError

log = logging.getLogger(__name__)
BOT_API_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses larger files ("file is too big")

U = TypeVar("U")  # the framework's Update type
ALLOWED_UPDATES = ["message", "callback_query"]
MEDIA_GROUP = 10
TOPIC_NAME = 128  # characters Telegram allows in a topic's name
# Seconds to wait for Telegram's answer to a call, once it is sent. Telegram answers a send in
# well under a second, and in seconds when it is slow; a call it has not answered in a minute
# is on a connection that died. A send that times out may have been accepted, so it is not sent
# again (UncertainDeliveryError, docs/telegram.md): the wait must be long enough that only a
# dead connection ever reaches it. python-telegram-bot's default is 5 s, too short.
ANSWER_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0  # nothing is sent before the connection is made: safe to try again
# Writing a call (python-telegram-bot times it apart): a few KB of JSON; a write that fails
# has not reached Telegram whole, so it is tried again, and need not wait as long.
WRITE_TIMEOUT = 20.0
# getUpdates: Telegram holds it open up to its `timeout`; this much more, then it is dead.
POLL_READ_MARGIN = 10.0


class HtmlRejectedError(Exception):
    """Telegram could not parse a message's HTML. Templates escape everything, so this is a bug
    in a template; the text still goes out, as plain text, rather than being lost."""


class UnusablePhotoError(Exception):
    """A buyer's image the bot cannot keep; `reason` is what the buyer is told, with the
    size limit it broke, if that was what was wrong."""

    def __init__(self, reason: str, size_limit: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.size_limit = size_limit


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str


@dataclass(frozen=True, slots=True)
class FileRef:
    """An attachment as the framework describes it."""

    file_id: str
    file_unique_id: str
    size: int | None
    as_file: bool = False  # sent as a document, uncompressed, rather than as a photo


@dataclass(frozen=True, slots=True)
class MessageParts:
    """What the adapters read off a message or a button press, framework-neutral."""

    update_id: int
    chat_id: int
    is_private: bool
    thread_id: int | None
    user_id: int
    user_name: str
    language_code: str | None
    text: str | None = None
    caption: str | None = None
    payload: str | None = None
    callback_id: str | None = None
    image: FileRef | None = None  # the largest photo size, or an image sent as a file
    unsupported: str | None = None


@dataclass(slots=True)
class _Progress:
    """How far a row's delivery went: its sends done, the last message id, and why one of
    them may not have gone out (empty when all surely did)."""

    done: int = 0
    last: int = 0
    uncertain: str = ""


class TelegramAdapter(ABC, Generic[U]):
    name: str

    def __init__(self, *, media: MediaStore, max_photo_bytes: int) -> None:
        self.media = media
        self.max_photo_bytes = max_photo_bytes
        self.identity: BotIdentity | None = None
        # Rows part-way through (outbox id: what is sent), for their next try.
        self._progress: dict[int, _Progress] = {}

    # -- the framework's part ----------------------------------------------------------------
    @abstractmethod
    async def start(self) -> BotIdentity: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Ask Telegram who the bot is (getMe): raises if it cannot be reached (/readyz)."""

    @abstractmethod
    async def get_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        """Long polling: Telegram holds the call up to `wait` seconds for something new. The
        updates come as the JSON Telegram sent: that is what the inbox keeps (a framework's
        model dumped again is not the same thing, and may not even dump: see
        docs/telegram.md), and `parse_update` reads each one."""

    @abstractmethod
    def parse_update(self, data: dict[str, Any]) -> U:
        """The framework's update from the Bot API's JSON; ValueError if it is not one."""

    @abstractmethod
    def content_type(self, message: Any) -> str:
        """What kind of message this is ("sticker", "voice" ...), for a clear reply to it."""

    def read(self, update: U) -> MessageParts | None:
        """The update's parts, or None for kinds of update the bot does not handle. aiogram's
        and PTB's types name the same Bot API fields alike, so one reading serves both."""
        update_id: int = getattr(update, "update_id")  # noqa: B009 - a framework's Update
        message = getattr(update, "message", None)
        if message is not None:
            return self._message_parts(update_id, message)
        query = getattr(update, "callback_query", None)
        if query is None or query.message is None:
            return None
        return MessageParts(
            update_id=update_id,
            chat_id=query.message.chat.id,
            is_private=query.message.chat.type == "private",
            thread_id=_thread(query.message),
            user_id=query.from_user.id,
            user_name=display_name(query.from_user.first_name, query.from_user.last_name),
            language_code=query.from_user.language_code,
            payload=query.data or "",
            callback_id=query.id,
        )

    def _message_parts(self, update_id: int, message: Any) -> MessageParts | None:
        user = message.from_user
        if user is None:
            return None  # a channel post or a service message: nobody to answer
        image: FileRef | None = None
        unsupported: str | None = None
        if message.photo:
            largest = message.photo[-1]
            image = FileRef(largest.file_id, largest.file_unique_id, largest.file_size)
        elif message.document is not None:
            document = message.document
            if image_document(document.mime_type):
                image = FileRef(
                    document.file_id, document.file_unique_id, document.file_size, as_file=True
                )
            else:
                unsupported = "document"
        elif message.text is None:
            unsupported = self.content_type(message)
        return MessageParts(
            update_id=update_id,
            chat_id=message.chat.id,
            is_private=message.chat.type == "private",
            thread_id=_thread(message),
            user_id=user.id,
            user_name=display_name(user.first_name, user.last_name),
            language_code=user.language_code,
            text=message.text,
            caption=message.caption,
            image=image,
            unsupported=unsupported,
        )

    @abstractmethod
    async def download(self, file_id: str, destination: Path) -> None:
        """getFile and the download; Telegram's refusals raise as for sending."""

    @abstractmethod
    async def answer_callback(self, callback_id: str, text: str | None) -> None:
        """Raise the delivery errors of bot.runtime.outbox.transport, as sending does."""

    @abstractmethod
    async def send_text(
        self,
        chat_id: int,
        thread_id: int | None,
        text: str,
        buttons: list[list[dict[str, str]]] | None,
        *,
        html: bool,
    ) -> int:
        """Send one message; raise the delivery errors of bot.runtime.outbox.transport, or
        HtmlRejectedError."""

    @abstractmethod
    async def send_photos(
        self, chat_id: int, thread_id: int | None, file_ids: list[str]
    ) -> int: ...

    @abstractmethod
    async def send_document(self, chat_id: int, thread_id: int | None, file_id: str) -> int:
        """Send a file the bot received as a document (an image a buyer sent as a file)."""

    @abstractmethod
    async def upload_photos(
        self, chat_id: int, thread_id: int | None, files: list[tuple[str, bytes]]
    ) -> int:
        """Upload images the bot made, (name, content) each: one photo, or an album of 2-10."""

    @abstractmethod
    async def upload_document(
        self, chat_id: int, thread_id: int | None, name: str, content: bytes
    ) -> int:
        """Upload a file the bot made as a document named `name`."""

    @abstractmethod
    async def create_topic(self, chat_id: int, name: str) -> int:
        """Open a forum topic; return its thread id."""

    @abstractmethod
    async def edit_topic(self, chat_id: int, thread_id: int, name: str) -> None: ...

    @abstractmethod
    async def close_topic(self, chat_id: int, thread_id: int, *, closed: bool) -> None:
        """Close a topic, or reopen it (closed=False)."""

    @abstractmethod
    async def set_webhook(self, url: str, secret: str) -> None: ...

    @abstractmethod
    async def delete_webhook(self) -> None: ...

    @abstractmethod
    async def set_commands(
        self, commands: list[tuple[str, str]], *, language: str | None, chat_id: int | None
    ) -> None: ...

    # -- shared ------------------------------------------------------------------------------
    def key(self, update_id: int) -> str:
        assert self.identity is not None, "start() first"
        return f"tg:{self.identity.id}:{update_id}"

    async def deliver(self, message: Outbound) -> int:
        """Photos first (the seller sees the evidence above the question), then the text, split
        to fit; the buttons go on the last part. Topic actions go to the forum methods.

        A row can take several sends. When one fails and the row is tried again, the sends
        already made are not made again: that would show them twice. A send that may or may not
        have gone out (UncertainDeliveryError) is not made again either; the row goes on with
        its next part, and is then reported as maybe delivered."""
        if message.action is not None:
            try:
                return await self._topic(message)
            except UncertainDeliveryError as unknown:
                # The new topic's thread id is needed, and a topic action repeated does no
                # harm that shows (an empty topic at worst): tried again.
                raise TemporaryError(str(unknown)) from unknown
        progress = self._progress.pop(message.id, None) or _Progress()
        steps = self._steps(message)
        try:
            for step in steps[progress.done :]:
                try:
                    progress.last = await step() or progress.last
                except UncertainDeliveryError as unknown:
                    progress.uncertain = str(unknown)
                progress.done += 1
        except (RetryAfterError, TemporaryError):
            self._progress[message.id] = progress
            raise
        if progress.uncertain:
            raise UncertainDeliveryError(progress.uncertain, progress.last or None)
        return progress.last

    def _steps(self, message: Outbound) -> list[Callable[[], Awaitable[int]]]:
        """The sends a row takes, in order."""
        photos = message.photos or []
        starts = range(0, len(photos), MEDIA_GROUP)
        groups = [photos[start : start + MEDIA_GROUP] for start in starts]
        parts = split_text(message.text)
        steps: list[Callable[[], Awaitable[int]]] = [
            partial(self._photo_group, message, group) for group in groups
        ]
        for number, part in enumerate(parts, start=1):
            buttons = message.buttons if number == len(parts) else None
            steps.append(partial(self._text_part, message, part, buttons))
        # Files the bot made follow the text that introduces them (a report's summary).
        charts = message.uploads("photo")
        for start in range(0, len(charts), MEDIA_GROUP):
            album = charts[start : start + MEDIA_GROUP]
            steps.append(partial(self.upload_photos, message.chat_id, message.thread_id, album))
        for name, content in message.uploads("document"):
            steps.append(
                partial(self.upload_document, message.chat_id, message.thread_id, name, content)
            )
        return steps

    async def _photo_group(self, message: Outbound, group: list[str]) -> int:
        try:
            return await self.send_photos(message.chat_id, message.thread_id, group)
        except PermanentError as refused:
            log.info("outbox %s: photos one by one after %s", message.id, refused)
            return await self._one_by_one(message, group)

    async def _text_part(
        self, message: Outbound, part: str, buttons: list[list[dict[str, str]]] | None
    ) -> int:
        try:
            return await self.send_text(
                message.chat_id, message.thread_id, part, buttons, html=True
            )
        except HtmlRejectedError:
            log.error(
                "Telegram rejected the HTML of outbox %s; sending it as plain text", message.id
            )
            return await self.send_text(
                message.chat_id, message.thread_id, plain_text(part), buttons, html=False
            )

    async def _one_by_one(self, message: Outbound, file_ids: list[str]) -> int:
        """Telegram sends a file again by its id only as what it was: an image a buyer sent as
        a file goes out as a document, not as a photo. One that goes neither way is left out,
        so that the text (the seller's question, with its buttons) still arrives."""
        last = 0
        for file_id in file_ids:
            try:
                last = await self.send_photos(message.chat_id, message.thread_id, [file_id])
            except PermanentError:
                try:
                    last = await self.send_document(message.chat_id, message.thread_id, file_id)
                except PermanentError as refused:
                    log.warning("outbox %s: file %s left out: %s", message.id, file_id, refused)
        return last

    async def _topic(self, message: Outbound) -> int:
        name = message.text[:TOPIC_NAME]
        if message.action == "topic_open":
            return await self.create_topic(message.chat_id, name)
        if message.thread_id is None:
            raise PermanentError(f"{message.action} without a topic")
        try:
            if message.action == "topic_rename":
                await self.edit_topic(message.chat_id, message.thread_id, name)
            else:
                await self.close_topic(
                    message.chat_id, message.thread_id, closed=message.action == "topic_close"
                )
        except PermanentError as error:
            # Renaming to the same name, or closing a closed topic: already as wanted.
            if "NOT_MODIFIED" not in str(error).upper():
                raise
        return message.thread_id

    async def to_incoming(self, update: U) -> Incoming | None:
        """The engine's event for an update, with its photo downloaded and size-checked."""
        parts = self.read(update)
        if parts is None:
            return None
        photos: tuple[Photo, ...] = ()
        unsupported = parts.unsupported
        size_limit: int | None = None
        if parts.image is not None:
            try:
                photos = (await self._fetch(parts.image),)
            except UnusablePhotoError as unusable:
                unsupported, size_limit = unusable.reason, unusable.size_limit
        return Incoming(
            key=self.key(parts.update_id),
            author=Author(parts.user_id, parts.user_name, parts.language_code),
            chat_id=parts.chat_id,
            text=parts.text,
            payload=parts.payload,
            callback_id=parts.callback_id,
            photos=photos,
            caption=parts.caption,
            thread_id=parts.thread_id,
            unsupported=unsupported,
            size_limit=size_limit,
            is_private=parts.is_private,
        )

    async def _fetch(self, image: FileRef) -> Photo:
        """Download an image as evidence. A failure that may pass (the network, Telegram's
        5xx) is raised, and the update is tried again; a refusal that will not pass is an
        `UnusablePhotoError`, which the buyer hears about, or their chat would wait for ever."""
        # Sent as a photo, Telegram has compressed it already: only a smaller picture helps.
        # Sent as a file, sending it as a photo is what makes it smaller.
        too_large = "file_too_large" if image.as_file else "photo_too_large"
        if image.size is not None and image.size > self.max_photo_bytes:
            raise UnusablePhotoError(too_large, self.max_photo_bytes)
        # Kept under Telegram's unique id: a redelivered update, on this worker or another,
        # finds its photo kept and neither downloads nor writes it again.
        key = image.file_unique_id
        try:
            if not await self.media.exists(key):
                await self.media.put(key, await self._download(image, too_large))
        except MediaUnavailableError as down:
            # Nothing of the update is applied yet: the buyer sends the photo again later,
            # and what their case already holds stays as it was.
            log.error("photo %s not kept: %s", key, down)
            raise UnusablePhotoError("photo_not_stored") from down
        return Photo(image.file_id, image.file_unique_id, image.size, self.media.where(key))

    async def _download(self, image: FileRef, too_large: str) -> bytes:
        """The image's bytes, through a file of its own (both frameworks download to a path)."""
        with tempfile.TemporaryDirectory(prefix="returndesk-photo-") as folder:
            partial = Path(folder) / "photo.part"
            try:
                await self.download(image.file_id, partial)
            except PermanentError as refused:
                log.warning("Telegram refused file %s: %s", image.file_id, refused)
                if "too big" in str(refused).lower():
                    limit = min(self.max_photo_bytes, BOT_API_DOWNLOAD_BYTES)
                    raise UnusablePhotoError(too_large, limit) from refused
                raise UnusablePhotoError("photo_unavailable") from refused
            if partial.stat().st_size > self.max_photo_bytes:  # the size Telegram gave was wrong
                raise UnusablePhotoError(too_large, self.max_photo_bytes)
            return partial.read_bytes()


def _thread(message: Any) -> int | None:
    """The forum topic a message is in (a button's message may be inaccessible: no topic)."""
    return message.message_thread_id if getattr(message, "is_topic_message", False) else None


def image_document(mime_type: str | None) -> bool:
    return bool(mime_type and mime_type.startswith("image/"))


def display_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)
