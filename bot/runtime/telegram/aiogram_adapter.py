"""The aiogram adapter: aiogram's Bot does the Telegram I/O, its types describe the updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    Update,
)

from bot.runtime.outbox.transport import (
    PermanentError,
    RetryAfterError,
    TemporaryError,
    UncertainDeliveryError,
)
from bot.runtime.telegram.adapter import (
    ALLOWED_UPDATES,
    ANSWER_TIMEOUT,
    CONNECT_TIMEOUT,
    POLL_READ_MARGIN,
    BotIdentity,
    HtmlRejectedError,
    TelegramAdapter,
)
from bot.storage.media import MediaStore

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class _GetUpdates(methods.GetUpdates):
    """getUpdates, answering with the updates as the JSON Telegram sent. The inbox stores that
    JSON, as sent: dumping aiogram's models again fails on fields aiogram fills with its own
    defaults (a `link_preview_options` Telegram returns, see docs/telegram.md)."""

    __returning__ = list[dict[str, Any]]


class AiogramAdapter(TelegramAdapter[Update]):
    name = "aiogram"

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        media: MediaStore,
        max_photo_bytes: int,
        answer_timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        super().__init__(media=media, max_photo_bytes=max_photo_bytes)
        # aiohttp times a call as a whole: making the connection (a few seconds at most, and
        # nothing is sent before it, see _unanswered) and waiting for the answer.
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url), timeout=answer_timeout)
        self.bot = Bot(token, session=session)

    async def start(self) -> BotIdentity:
        me = await self.bot.get_me()
        self.identity = BotIdentity(me.id, me.username or "")
        return self.identity

    async def close(self) -> None:
        await self.bot.session.close()

    async def ping(self) -> None:
        await self.bot.get_me()

    async def get_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        updates = await self.bot(
            _GetUpdates(offset=offset, timeout=wait, allowed_updates=ALLOWED_UPDATES),
            request_timeout=int(CONNECT_TIMEOUT + wait + POLL_READ_MARGIN),
        )
        return cast(list[dict[str, Any]], updates)  # _GetUpdates' answer, typed as GetUpdates'

    def parse_update(self, data: dict[str, Any]) -> Update:
        return Update.model_validate(data, context={"bot": self.bot})

    def content_type(self, message: Any) -> str:
        return str(message.content_type)

    async def download(self, file_id: str, destination: Path) -> None:
        async with _errors():
            file = await self.bot.get_file(file_id)
        assert file.file_path is not None
        try:
            await self.bot.download_file(file.file_path, destination=destination)
        except aiohttp.ClientResponseError as error:
            # Not chained: its text quotes the file's URL, which holds the bot's token. A file
            # Telegram will not serve is gone for good (as python-telegram-bot reports it).
            failure = TemporaryError if error.status >= 500 else PermanentError
            raise failure(f"downloading the file failed: HTTP {error.status}") from None

    async def answer_callback(self, callback_id: str, text: str | None) -> None:
        async with _errors():
            await self.bot.answer_callback_query(callback_id, text=text)

    async def send_text(
        self,
        chat_id: int,
        thread_id: int | None,
        text: str,
        buttons: list[list[dict[str, str]]] | None,
        *,
        html: bool,
    ) -> int:
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=b["text"], callback_data=b["data"]) for b in row]
                    for row in buttons
                ]
            )
            if buttons
            else None
        )
        async with _errors():
            sent = await self.bot.send_message(
                chat_id,
                text,
                parse_mode="HTML" if html else None,
                reply_markup=markup,
                message_thread_id=thread_id,
                link_preview_options=NO_PREVIEW,
            )
        return sent.message_id

    async def send_photos(self, chat_id: int, thread_id: int | None, file_ids: list[str]) -> int:
        async with _errors():
            if len(file_ids) == 1:
                sent = await self.bot.send_photo(chat_id, file_ids[0], message_thread_id=thread_id)
                return sent.message_id
            group = await self.bot.send_media_group(
                chat_id, [InputMediaPhoto(media=f) for f in file_ids], message_thread_id=thread_id
            )
        return group[-1].message_id

    async def send_document(self, chat_id: int, thread_id: int | None, file_id: str) -> int:
        async with _errors():
            sent = await self.bot.send_document(chat_id, file_id, message_thread_id=thread_id)
        return sent.message_id

    async def upload_photos(
        self, chat_id: int, thread_id: int | None, files: list[tuple[str, bytes]]
    ) -> int:
        uploads = [BufferedInputFile(content, filename=name) for name, content in files]
        async with _errors():
            if len(uploads) == 1:
                sent = await self.bot.send_photo(chat_id, uploads[0], message_thread_id=thread_id)
                return sent.message_id
            group = await self.bot.send_media_group(
                chat_id, [InputMediaPhoto(media=u) for u in uploads], message_thread_id=thread_id
            )
        return group[-1].message_id

    async def upload_document(
        self, chat_id: int, thread_id: int | None, name: str, content: bytes
    ) -> int:
        upload = BufferedInputFile(content, filename=name)
        async with _errors():
            sent = await self.bot.send_document(chat_id, upload, message_thread_id=thread_id)
        return sent.message_id

    async def create_topic(self, chat_id: int, name: str) -> int:
        async with _errors():
            topic = await self.bot.create_forum_topic(chat_id, name)
        return topic.message_thread_id

    async def edit_topic(self, chat_id: int, thread_id: int, name: str) -> None:
        async with _errors():
            await self.bot.edit_forum_topic(chat_id, thread_id, name=name)

    async def close_topic(self, chat_id: int, thread_id: int, *, closed: bool) -> None:
        async with _errors():
            if closed:
                await self.bot.close_forum_topic(chat_id, thread_id)
            else:
                await self.bot.reopen_forum_topic(chat_id, thread_id)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def set_commands(
        self, commands: list[tuple[str, str]], *, language: str | None, chat_id: int | None
    ) -> None:
        scope = BotCommandScopeChat(chat_id=chat_id) if chat_id else BotCommandScopeDefault()
        await self.bot.set_my_commands(
            [BotCommand(command=c, description=d) for c, d in commands],
            scope=scope,
            language_code=language,
        )


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    """Translate aiogram's exceptions into the sender's three kinds of failure."""
    try:
        yield
    except TelegramRetryAfter as error:
        raise RetryAfterError(error.retry_after) from error
    except TelegramBadRequest as error:
        if "can't parse entities" in error.message.lower():
            raise HtmlRejectedError(error.message) from error
        raise PermanentError(error.message) from error
    except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as error:
        raise PermanentError(error.message) from error
    except TelegramNetworkError as error:
        if _unanswered(error):
            raise UncertainDeliveryError(str(error)) from error
        raise TemporaryError(str(error)) from error
    except TelegramServerError as error:
        raise TemporaryError(str(error)) from error


def _unanswered(error: TelegramNetworkError) -> bool:
    """The call timed out after its connection was made, so Telegram may have it: aiohttp
    raises ConnectionTimeoutError (a TimeoutError) for time spent before that."""
    cause = error.__cause__
    return isinstance(cause, TimeoutError) and not isinstance(cause, aiohttp.ConnectionTimeoutError)
