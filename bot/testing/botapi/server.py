"""The aiohttp app: routes, the method table, and the methods the bot calls.

Only the methods ReturnDesk's adapters call are served (see `_handlers`); any other answers 404
"Not Found", as Telegram does for a method it does not know, so a new call shows up in tests
and is added here together with Telegram's checks for it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.testing.botapi.errors import (
    BLOCKED,
    FAULTS,
    JSON,
    NOT_A_FORUM,
    QUERY_INVALID,
    ApiError,
    DropConnection,
    Fault,
    Slowness,
    bad_request,
    error_response,
    too_many_requests,
)
from bot.testing.botapi.html import check_caption, check_message_text
from bot.testing.botapi.markup import check_reply_markup, kept_link_preview
from bot.testing.botapi.params import Params, read_params
from bot.testing.botapi.records import (
    DEFAULT_TOPIC_COLOR,
    CallbackAnswer,
    ForumTopic,
    StoredFile,
    jpeg,
)
from bot.testing.botapi.updates import UpdateQueue, WebhookInfo
from bot.testing.botapi.users import SimulatedUsers

Handler = Callable[[Params], Awaitable[Any]]

CALLBACK_ANSWER_LIMIT = 200
MEDIA_GROUP_SIZES = range(2, 11)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
UPLOAD_LIMIT = 50 * 1024 * 1024
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024  # "The photo must be at most 10 MB in size."
TOPIC_NAME_LIMIT = 128

_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


@dataclass
class _TokenBucket:
    """A private chat's limit: "avoid sending more than one message per second. We may allow
    short bursts that go over this limit" (Telegram's Bots FAQ): bursts up to `capacity`, then
    `rate` a second."""

    rate: float
    capacity: float
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self.tokens -= 1


@dataclass
class _Window:
    """A limit with no burst: at most `limit` messages in any `seconds`. Telegram's Bots FAQ:
    "the API will not allow more than 30 messages per second or so", and "your bot will not be
    able to send more than 20 messages per minute to the same group". Counted over a sliding
    window, so a burst at the end of one second and the start of the next is refused too."""

    limit: int
    seconds: float
    sent: collections.deque[float] = field(default_factory=collections.deque)

    def wait_time(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.seconds:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.seconds - now

    def take(self, now: float) -> None:
        self.sent.append(now)


class FakeBotAPI(SimulatedUsers):
    """Telegram's Bot API on 127.0.0.1, with recorded sends, simulated users and injected faults."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST",  # noqa: S107 - a token of this fake only
        bot_id: int = 123456,
        username: str = "returndesk_test_bot",
        enforce_limits: bool = False,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        global_per_second: int = 30,
        group_per_minute: int = 20,
    ) -> None:
        super().__init__(bot_id=bot_id, username=username)
        self.token = token
        self.base_url = ""
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.commands: dict[tuple[str, str | None], list[JSON]] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.responses_429 = 0
        self.updates = UpdateQueue()
        # Flood limits.
        self._enforce_limits = enforce_limits
        self._chat_limit = (per_chat_per_second, float(per_chat_burst))
        self._group_limit = group_per_minute
        self._chat_limits: dict[int, _TokenBucket | _Window] = {}
        self._global_limit = _Window(global_per_second, 1.0)
        self._downloads_broken = False
        self._blocked: set[int] = set()
        self._faults: list[Fault] = []
        self._slowness: list[Slowness] = []
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._handlers().items()
        }

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self.updates.get_updates,
            "setWebhook": self.updates.set_webhook,
            "deleteWebhook": self.updates.delete_webhook,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
        }

    # --- lifecycle ---

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns base_url."""
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown grace: long polls are woken by stop() and need no more.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.updates.start()
        return self.base_url

    async def stop(self) -> None:
        await self.updates.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- faults ---

    def fail_next(
        self, method: str, kind: str, *, times: int = 1, retry_after: int = 1, after: int = 0
    ) -> None:
        """Make the next `times` calls of `method` ("*": any) fail, once `after` calls of it
        have gone through.

        kind: "429" (with parameters.retry_after), "500", "502", "drop" (the connection closes
        without an answer), "blocked" (403, bot blocked by the user) or "gone" (400, the file
        a getFile asks for is no longer there).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {sorted(FAULTS)}")
        self._faults.append(Fault(method.lower(), kind, times, retry_after, after))

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` ("*": any) `seconds` late. Each is carried
        out at once, as Telegram does when it is slow: a client that gives up waiting and
        calls again has the call carried out twice."""
        self._slowness.append(Slowness(method.lower(), seconds, times))

    def break_downloads(self) -> None:
        """From now on file downloads answer 404, as a download path does once Telegram no
        longer serves it (an hour after getFile)."""
        self._downloads_broken = True

    def block_chat(self, chat_id: int) -> None:
        """From now on, sending to this chat fails as if the user blocked the bot."""
        self._blocked.add(chat_id)

    # --- updates ---

    @property
    def webhook(self) -> WebhookInfo | None:
        """The webhook setWebhook set, or None while the bot polls."""
        return self.updates.webhook

    @property
    def delivery_status(self) -> dict[int, list[int | str]]:
        return self.updates.delivery_status

    def next_update_id(self) -> int:
        return self.updates.next_update_id()

    async def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates or the webhook; assigns update_id if missing."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_update_id()
        message = update.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            self._chats[message["chat"]["id"]] = message["chat"]
        return self.updates.push(update)

    async def wait_delivered(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed the update (polling) or its webhook answered 2xx."""
        await self.updates.wait_delivered(update_id, timeout)

    def pending_updates(self) -> int:
        return self.updates.pending_updates()

    # --- HTTP ---

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        try:
            params = await read_params(request)
            result = await self._call(request.match_info["method"], params)
        except DropConnection:
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never written: the connection is gone
        except ApiError as error:
            return error_response(error)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or self._downloads_broken:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _call(self, name: str, params: Params) -> Any:
        # Telegram ignores the case of method names; calls are counted under the documented one.
        method, handler = self._methods.get(name.lower(), (name, None))
        self.calls[method] += 1
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if (fault := self._take_fault(method)) is not None:
                raise fault.error()
            result = await handler(params)
            if (late := self._take_slowness(method)) is not None:
                await asyncio.sleep(late)
            return result
        except ApiError as error:
            if error.code == 429:
                self.responses_429 += 1
            raise

    def _take_slowness(self, method: str) -> float | None:
        for slowness in self._slowness:
            if slowness.method in ("*", method.lower()):
                slowness.remaining -= 1
                if slowness.remaining <= 0:
                    self._slowness.remove(slowness)
                return slowness.seconds
        return None

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method.lower()):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- methods: bot, updates, webhook ---

    async def _get_me(self, params: Params) -> JSON:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # --- methods: sending ---

    async def _send_message(self, params: Params) -> JSON:
        chat_id = params.chat_id()
        text, parse_mode = params.text("text") or "", params.text("parse_mode")
        check_message_text(text, parse_mode)
        markup = params.json("reply_markup")
        check_reply_markup(markup)
        preview = kept_link_preview(params)
        thread_id = self._thread_for_send(chat_id, params)
        self._admit_send(chat_id)
        message = self._record(
            chat_id,
            method="sendMessage",
            thread_id=thread_id,
            text=text,
            parse_mode=parse_mode,
            markup=markup,
            extra={"link_preview_options": preview} if preview else None,
        )
        return message.to_json()

    async def _send_photo(self, params: Params) -> JSON:
        chat_id = params.chat_id()
        caption, parse_mode = params.text("caption"), params.text("parse_mode")
        check_caption(caption, parse_mode)
        markup = params.json("reply_markup")
        check_reply_markup(markup)
        photo = params.file("photo")
        stored = self._photo_file(photo)
        thread_id = self._thread_for_send(chat_id, params)
        self._admit_send(chat_id)
        message = self._record(
            chat_id,
            method="sendPhoto",
            thread_id=thread_id,
            text=caption,
            parse_mode=parse_mode,
            markup=markup,
            photo=stored,
            uploaded=isinstance(photo, bytes),
        )
        return message.to_json()

    async def _send_document(self, params: Params) -> JSON:
        chat_id = params.chat_id()
        caption, parse_mode = params.text("caption"), params.text("parse_mode")
        check_caption(caption, parse_mode)
        document_file = params.file("document")
        if isinstance(document_file, bytes):
            stored = self._store_upload(document_file, params.filename("document"))
        else:
            known = self._files.get(document_file or "")
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            stored = known
            if not stored.file_path.startswith("documents/"):
                raise bad_request("can't use file of type Photo as Document")
        thread_id = self._thread_for_send(chat_id, params)
        self._admit_send(chat_id)
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
        }
        if stored.file_name is not None:
            document["file_name"] = stored.file_name
            document["mime_type"] = stored.mime_type
        document["file_size"] = len(stored.content)
        message = self._record(
            chat_id,
            method="sendDocument",
            thread_id=thread_id,
            text=caption,
            parse_mode=parse_mode,
            extra={"document": document},
            uploaded=isinstance(document_file, bytes),
        )
        message.document = stored.file_id
        return message.to_json()

    async def _send_media_group(self, params: Params) -> list[JSON]:
        chat_id = params.chat_id()
        media = params.json("media")
        if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
            # Telegram takes 2 to 10 items.
            raise bad_request("wrong number of media in the media group")
        items = [self._media_item(item, params) for item in media]
        thread_id = self._thread_for_send(chat_id, params)
        self._admit_send(chat_id)  # the whole group counts as one send
        group = {"media_group_id": str(10_000_000_000_000_000 + next(self._serial))}
        return [
            self._record(
                chat_id,
                method="sendMediaGroup",
                thread_id=thread_id,
                text=caption,
                parse_mode=mode,
                photo=stored,
                extra=group,
                uploaded=uploaded,
            ).to_json()
            for stored, caption, mode, uploaded in items
        ]

    def _media_item(
        self, item: Any, params: Params
    ) -> tuple[StoredFile, str | None, str | None, bool]:
        if not isinstance(item, dict):
            raise bad_request("can't parse InputMedia JSON object")
        if item.get("type") != "photo":
            raise bad_request(
                f"the fake Bot API only models photo media groups, not {item.get('type')!r}"
            )
        fields = Params(item)
        caption, parse_mode = fields.text("caption"), fields.text("parse_mode")
        check_caption(caption, parse_mode)
        media = params.attachment(item.get("media"))
        return self._photo_file(media), caption, parse_mode, isinstance(media, bytes)

    def _photo_file(self, photo: bytes | str | None) -> StoredFile:
        if isinstance(photo, bytes):
            if len(photo) > PHOTO_UPLOAD_LIMIT:
                # What Telegram answers for a photo over its 10 MB limit.
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            return self._store(photo, "photos", ".jpg")
        if photo is None or photo == "":
            raise bad_request("there is no photo in the request")
        if photo in self._files:
            stored = self._files[photo]
            # As Telegram: a file is sent again by its id only as what it is.
            if stored.file_path.startswith("documents/"):
                raise bad_request("can't use file of type Document as Photo")
            return stored
        if photo.startswith(("http://", "https://")):
            # Telegram would download it; a stand-in keeps tests off the network.
            return self._store(jpeg(50_000), "photos", ".jpg")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _thread_for_send(self, chat_id: int, params: Params) -> int | None:
        """The topic a message goes to; in a forum, it must exist.

        Like Telegram, a thread id of 0 or below means none, and outside forums it is ignored.
        """
        thread_id = params.integer("message_thread_id")
        if thread_id is None or thread_id <= 0:
            return None
        if chat_id > 0:
            return thread_id
        if not self._is_forum(chat_id):
            return None
        if (chat_id, thread_id) not in self.topics:  # the General topic (1) included
            raise bad_request("message thread not found")
        return thread_id

    def _admit_send(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        if not self._enforce_limits:
            return
        limits = (self._chat_limiter(chat_id), self._global_limit)
        now = time.monotonic()
        wait = max(limit.wait_time(now) for limit in limits)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for limit in limits:
            limit.take(now)

    def _chat_limiter(self, chat_id: int) -> _TokenBucket | _Window:
        if chat_id not in self._chat_limits:
            self._chat_limits[chat_id] = (
                _Window(self._group_limit, 60.0) if chat_id < 0 else _TokenBucket(*self._chat_limit)
            )
        return self._chat_limits[chat_id]

    # --- methods: chats and forum topics ---

    async def _create_forum_topic(self, params: Params) -> JSON:
        chat_id = self._forum_id(params)
        name = _checked_topic_name(params.text("name") or "")
        icon_color = params.integer("icon_color")
        emoji = params.text("icon_custom_emoji_id")
        thread_id = self._next_message_id(chat_id)  # the id of the topic's creation message
        color = DEFAULT_TOPIC_COLOR if icon_color is None else icon_color
        topic = self._add_topic(
            chat_id,
            thread_id,
            name,
            icon_color=color,
            creator=self._bot_user(),
            icon_custom_emoji_id=emoji,
        )
        return topic.to_json()

    async def _edit_forum_topic(self, params: Params) -> bool:
        topic = self._topic(params)
        name = params.text("name") or ""  # empty: keep the name
        emoji = params.text("icon_custom_emoji_id")  # present, even empty: change the icon
        if name:
            name = _checked_topic_name(name)
        if not name and emoji is None:
            return True  # nothing asked for: Telegram does not even send the request
        renamed = bool(name) and name != topic.name
        new_icon = emoji is not None and (emoji or None) != topic.icon_custom_emoji_id
        if not renamed and not new_icon:
            raise bad_request("TOPIC_NOT_MODIFIED")
        if renamed:
            topic.name = name
            topic.history.append(name)
        if new_icon:
            topic.icon_custom_emoji_id = emoji or None
        self._next_message_id(topic.chat_id)  # the forum_topic_edited service message
        return True

    async def _close_forum_topic(self, params: Params) -> bool:
        return self._set_topic_closed(self._topic(params), closed=True)

    async def _reopen_forum_topic(self, params: Params) -> bool:
        return self._set_topic_closed(self._topic(params), closed=False)

    def _set_topic_closed(self, topic: ForumTopic, *, closed: bool) -> bool:
        # Bots are admins: they still post to a closed topic, and it is not checked here.
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        self._next_message_id(topic.chat_id)  # the forum_topic_closed/reopened service message
        return True

    def _forum_id(self, params: Params) -> int:
        chat_id = params.chat_id()
        if not self._is_forum(chat_id):
            raise bad_request(NOT_A_FORUM)
        return chat_id

    def _topic(self, params: Params) -> ForumTopic:
        chat_id = self._forum_id(params)
        thread_id = params.integer("message_thread_id") or 0
        if thread_id <= 0:
            raise bad_request("invalid message thread identifier specified")
        if (chat_id, thread_id) not in self.topics:
            raise bad_request("TOPIC_ID_INVALID")
        return self.topics[chat_id, thread_id]

    # --- methods: callbacks, files, commands ---

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        text = params.text("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        # A query can be answered once; after that Telegram treats its id as unknown.
        if query_id not in self._open_callbacks:
            raise bad_request(QUERY_INVALID)
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = CallbackAnswer(query_id, text, params.flag("show_alert"))
        return True

    async def _get_file(self, params: Params) -> JSON:
        stored = self._files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        self.commands[self._commands_key(params)] = [_checked_command(item) for item in commands]
        return True

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str | None]:
        scope = params.json("scope") or {"type": "default"}
        # Canonical JSON, so the same scope is the same key whichever client sent it.
        return json.dumps(scope, sort_keys=True, separators=(",", ":")), params.text(
            "language_code"
        ) or None


def _checked_topic_name(name: str) -> str:
    if not name.strip():
        raise bad_request("title must be non-empty")  # Telegram's words for an empty name
    if len(name) > TOPIC_NAME_LIMIT:
        raise bad_request("TOPIC_NAME_INVALID")  # Telegram would cut it: see the package docstring
    return name


def _checked_command(item: Any) -> JSON:
    if not isinstance(item, dict) or not _BOT_COMMAND.fullmatch(str(item.get("command", ""))):
        raise bad_request("BOT_COMMAND_INVALID")
    description = str(item.get("description", ""))
    if not 0 < len(description) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": item["command"], "description": description}
