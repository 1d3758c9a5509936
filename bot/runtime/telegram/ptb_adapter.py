"""The python-telegram-bot adapter: PTB's Bot does the Telegram I/O, its types describe updates.

Only PTB's Bot is used, not its Application or Updater: the Updater confirms updates to
Telegram before they are processed, and the bot must confirm only what it has stored.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

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
    WRITE_TIMEOUT,
    BotIdentity,
    HtmlRejectedError,
    TelegramAdapter,
)
from bot.storage.media import MediaStore

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
POOL_SIZE = 256  # connections for calls other than getUpdates (PTB's default)
# Message kinds the bot cannot use, named in its reply.
KINDS = ("sticker", "voice", "video", "video_note", "audio", "animation", "location", "contact")


class PtbAdapter(TelegramAdapter[Update]):
    name = "ptb"

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
        # PTB 22 warns on every RetryAfter until durations are opted into as timedeltas, which
        # _translate reads either way.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        base = api_url.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(
                connection_pool_size=POOL_SIZE,
                read_timeout=answer_timeout,
                write_timeout=WRITE_TIMEOUT,
                connect_timeout=CONNECT_TIMEOUT,
            ),
            # One long poll at a time; its read timeout is the poll's own plus a margin.
            get_updates_request=HTTPXRequest(
                connection_pool_size=1,
                read_timeout=POLL_READ_MARGIN,
                connect_timeout=CONNECT_TIMEOUT,
            ),
        )

    async def start(self) -> BotIdentity:
        await self.bot.initialize()
        me = self.bot.bot
        self.identity = BotIdentity(me.id, me.username or "")
        return self.identity

    async def close(self) -> None:
        await self.bot.shutdown()

    async def ping(self) -> None:
        await self.bot.get_me()

    async def get_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        # What Bot.get_updates does, less turning the JSON into PTB's objects: the inbox keeps
        # the JSON as Telegram sent it (docs/telegram.md).
        request = {"offset": offset, "timeout": wait, "allowed_updates": ALLOWED_UPDATES}
        result = await self.bot._post("getUpdates", request, read_timeout=POLL_READ_MARGIN + wait)
        return list(result)

    def parse_update(self, data: dict[str, Any]) -> Update:
        # PTB does not validate: what is not an update fails on whatever it meets first.
        if not isinstance(data, dict):
            raise ValueError(f"an update is a JSON object, not {type(data).__name__}")
        try:
            return Update.de_json(data, self.bot)
        except (AttributeError, KeyError, TypeError) as error:
            raise ValueError(f"not a Telegram update: {error!r}") from error

    def content_type(self, message: Any) -> str:
        for kind in KINDS:
            if getattr(message, kind, None):
                return kind
        return "unknown"

    async def download(self, file_id: str, destination: Path) -> None:
        try:
            file = await self.bot.get_file(file_id)
            await file.download_to_drive(destination)
        except TelegramError as error:
            raise _translate(error) from error

    async def answer_callback(self, callback_id: str, text: str | None) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text)
        except TelegramError as error:
            raise _translate(error) from error

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
                [
                    [InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                    for row in buttons
                ]
            )
            if buttons
            else None
        )
        try:
            sent = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML if html else None,
                reply_markup=markup,
                message_thread_id=thread_id,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as error:
            raise _translate(error) from error
        return sent.message_id

    async def send_photos(self, chat_id: int, thread_id: int | None, file_ids: list[str]) -> int:
        try:
            if len(file_ids) == 1:
                sent = await self.bot.send_photo(chat_id, file_ids[0], message_thread_id=thread_id)
                return sent.message_id
            group = await self.bot.send_media_group(
                chat_id, [InputMediaPhoto(f) for f in file_ids], message_thread_id=thread_id
            )
        except TelegramError as error:
            raise _translate(error) from error
        return group[-1].message_id

    async def send_document(self, chat_id: int, thread_id: int | None, file_id: str) -> int:
        try:
            sent = await self.bot.send_document(chat_id, file_id, message_thread_id=thread_id)
        except TelegramError as error:
            raise _translate(error) from error
        return sent.message_id

    async def upload_photos(
        self, chat_id: int, thread_id: int | None, files: list[tuple[str, bytes]]
    ) -> int:
        try:
            if len(files) == 1:
                name, content = files[0]
                sent = await self.bot.send_photo(
                    chat_id, InputFile(content, filename=name), message_thread_id=thread_id
                )
                return sent.message_id
            group = await self.bot.send_media_group(
                chat_id,
                [InputMediaPhoto(content, filename=name) for name, content in files],
                message_thread_id=thread_id,
            )
        except TelegramError as error:
            raise _translate(error) from error
        return group[-1].message_id

    async def upload_document(
        self, chat_id: int, thread_id: int | None, name: str, content: bytes
    ) -> int:
        try:
            sent = await self.bot.send_document(
                chat_id, InputFile(content, filename=name), message_thread_id=thread_id
            )
        except TelegramError as error:
            raise _translate(error) from error
        return sent.message_id

    async def create_topic(self, chat_id: int, name: str) -> int:
        try:
            topic = await self.bot.create_forum_topic(chat_id, name)
        except TelegramError as error:
            raise _translate(error) from error
        return topic.message_thread_id

    async def edit_topic(self, chat_id: int, thread_id: int, name: str) -> None:
        try:
            await self.bot.edit_forum_topic(chat_id, thread_id, name=name)
        except TelegramError as error:
            raise _translate(error) from error

    async def close_topic(self, chat_id: int, thread_id: int, *, closed: bool) -> None:
        try:
            if closed:
                await self.bot.close_forum_topic(chat_id, thread_id)
            else:
                await self.bot.reopen_forum_topic(chat_id, thread_id)
        except TelegramError as error:
            raise _translate(error) from error

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def set_commands(
        self, commands: list[tuple[str, str]], *, language: str | None, chat_id: int | None
    ) -> None:
        scope = BotCommandScopeChat(chat_id) if chat_id else BotCommandScopeDefault()
        await self.bot.set_my_commands(
            [BotCommand(c, d) for c, d in commands], scope=scope, language_code=language
        )


def _translate(error: TelegramError) -> Exception:
    """PTB's exceptions as the sender's three kinds of failure. BadRequest is a NetworkError in
    PTB, so the permanent kinds are told apart first."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        return RetryAfterError(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    if isinstance(error, BadRequest) and "can't parse entities" in error.message.lower():
        return HtmlRejectedError(error.message)
    if isinstance(error, Forbidden | BadRequest | InvalidToken | ChatMigrated):
        return PermanentError(error.message)
    if isinstance(error, TimedOut) and isinstance(error.__cause__, httpx.ReadTimeout):
        # Sent, and no answer in time: Telegram may have it (the other timeouts, of the
        # connection, the pool or the writing, come before it has it all).
        return UncertainDeliveryError(error.message)
    if isinstance(error, NetworkError):
        return TemporaryError(error.message)
    return PermanentError(str(error))
