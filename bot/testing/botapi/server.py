"""A fake Telegram Bot API server for tests and benchmarks.

Real clients talk to it over HTTP, unmodified:

    async with FakeBotAPI() as api:
        server = TelegramAPIServer.from_base(api.base_url)
        aiogram_bot = Bot(api.token, session=AiohttpSession(api=server))
        ptb_bot = telegram.Bot(
            api.token, base_url=f"{api.base_url}/bot", base_file_url=f"{api.base_url}/file/bot"
        )

It answers the way Telegram does where clients look (status codes, descriptions,
`parameters.retry_after`), so the clients raise the exceptions they raise in production. It checks
what Telegram checks for the methods the bot uses: the HTML subset, lengths in UTF-16 code units,
inline keyboards, callback answers, webhook secrets, forum topics. Users are simulated by pushing
updates, which it serves to long polling or POSTs to a webhook, retrying like Telegram.

Chats: a positive id is a private chat; a negative one is a supergroup titled "Support" with
topics (a forum), unless make_plain_group() made it an ordinary supergroup. Topics get their thread
ids from the chat's message ids, as in Telegram, where a topic is the service message that created
it.

Deliberate differences from Telegram:
- a bare "&" in HTML is rejected (Telegram keeps it as text); escaping it is always right, and this
  catches text that reached the message unescaped;
- Markdown parse modes are accepted but not checked; whitespace around texts is not trimmed;
- webhook URLs may be plain http on any port, and updates go to the webhook one at a time;
- media groups can only hold photos; a 502 comes as JSON (Telegram's nginx sends an HTML page);
- a topic name over 128 characters is refused (Telegram cuts it to 128), so a name built too long
  shows up in tests;
- service messages (topic created, edited, closed) take message ids but are not recorded in `sent`;
- message_thread_id is not checked for private chats.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Handler = Callable[["_Params"], Awaitable[Any]]

MESSAGE_LIMIT = 4096  # UTF-16 code units of the parsed text
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
CALLBACK_ANSWER_LIMIT = 200
MEDIA_GROUP_SIZES = range(2, 11)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
UPLOAD_LIMIT = 50 * 1024 * 1024
GROUP_BURST = 20
WEBHOOK_RETRY_DELAY = 0.05
WEBHOOK_TRIES = 200
WEBHOOK_TIMEOUT = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
BOT_FIRST_NAME = "ReturnDesk Test"
GROUP_TITLE = "Support"
TOPIC_NAME_LIMIT = 128
GENERAL_TOPIC_ID = 1  # a forum's General topic; its messages carry no message_thread_id
DEFAULT_TOPIC_COLOR = 0x6FB9F0
ACCENT_COLORS = 7  # getChat's accent_color_id is one of Telegram's 7 built-in colors
MAX_REACTIONS = 11

BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
FILE_GONE = "wrong file_id or the file is temporarily unavailable"  # getFile, for good
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_A_FORUM = "the chat is not a forum"

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
# Telegram only sends these update types to bots that ask for them by name.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# getChat: the gifts a chat accepts, and what members of a group may do.
_GIFT_TYPES = (
    "unlimited_gifts",
    "limited_gifts",
    "unique_gifts",
    "premium_subscription",
    "gifts_from_channels",
)
_MEMBER_PERMISSIONS = (
    "can_send_messages",
    "can_send_media_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
)
_ADMIN_PERMISSIONS = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
# LinkPreviewOptions' fields; Telegram leaves out those that are false or unset.
_LINK_PREVIEW_FIELDS = (
    "is_disabled",
    "url",
    "prefer_small_media",
    "prefer_large_media",
    "show_above_text",
)
# An inline button needs one of these; one with a text only is refused.
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "pay", "copy_text", "callback_game"}
    | {"switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat"}
)


class _ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": code, "description": ...}`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class _DropConnection(Exception):  # noqa: N818 - an instruction, not an error
    """Close the connection without answering, like a proxy dying mid-request."""


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def _utf16_length(text: str) -> int:
    """Length as Telegram counts it: emoji outside the BMP count twice."""
    return len(text.encode("utf-16-le")) // 2


# --- Telegram's HTML subset --------------------------------------------------------------------

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_PLAIN_RUN = re.compile(r"[^<&]+")
_CHARACTER_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[^\s>]*")
_TAG_END = re.compile(r"\s*>")
_ATTRIBUTE = re.compile(
    r"""\s*([^\s=>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9.\-]+)))?"""
)
_END_TAG = re.compile(r"</([^\s>]*)\s*>")


class _HtmlError(ValueError):
    """Markup Telegram refuses; the text follows "Bad Request: can't parse entities: "."""


@dataclass(frozen=True)
class _ParsedText:
    text: str
    entities: list[JSON]


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # where its content starts in the parsed text, in UTF-16 code units


def _character(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_CHARACTERS[named]
    code_point = int(decimal) if decimal else int(hexadecimal, 16)
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        return None
    return chr(code_point)


def _unescape_attribute(value: str) -> str:
    # Telegram decodes what it can in attribute values and keeps the rest as typed.
    return _CHARACTER_ENTITY.sub(lambda match: _character(match) or match.group(), value)


class _HtmlParser:
    """Parses parse_mode=HTML text the way Telegram's server (tdlib's parse_html) does.

    Yields the text users read and its entities, or raises _HtmlError with Telegram's wording,
    byte offsets included, so a test failure points at the same place a production error would.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._pos = 0
        self._chunks: list[str] = []
        self._length = 0
        self._open: list[_OpenTag] = []
        self._entities: list[JSON] = []

    def parse(self) -> _ParsedText:
        while self._pos < len(self._source):
            if self._source[self._pos] == "<":
                self._tag()
            elif self._source[self._pos] == "&":
                self._character_entity()
            else:
                run = _PLAIN_RUN.match(self._source, self._pos)
                assert run is not None  # the current character is neither "<" nor "&"
                self._emit(run.group())
                self._pos = run.end()
        if self._open:
            raise _HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self._open[-1].name}"'
            )
        entities = sorted(self._entities, key=lambda entity: (entity["offset"], -entity["length"]))
        return _ParsedText("".join(self._chunks), entities)

    def _emit(self, text: str) -> None:
        self._chunks.append(text)
        self._length += _utf16_length(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self._source[:pos].encode())

    def _character_entity(self) -> None:
        match = _CHARACTER_ENTITY.match(self._source, self._pos)
        character = _character(match) if match else None
        if match is None or character is None:
            offset = self._byte_offset(self._pos)
            raise _HtmlError(f'Unescaped "&" at byte offset {offset}, use &amp; for it')
        self._emit(character)
        self._pos = match.end()

    def _tag(self) -> None:
        if self._source.startswith("</", self._pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        start = self._pos
        name_match = _TAG_NAME.match(self._source, start + 1)
        assert name_match is not None  # the pattern also matches the empty string
        name, pos = name_match.group().lower(), name_match.end()
        if pos >= len(self._source):
            raise _HtmlError(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        if name not in _ENTITY_TYPES:
            raise _HtmlError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(start)}'
            )
        attributes: dict[str, str] = {}
        while (end := _TAG_END.match(self._source, pos)) is None:
            attribute = _ATTRIBUTE.match(self._source, pos)
            if attribute is None:
                unclosed = not self._source[pos:].strip()
                problem = "Unclosed start tag" if unclosed else f'Bad attribute in tag "{name}"'
                raise _HtmlError(f"{problem} at byte offset {self._byte_offset(start)}")
            value = attribute.group(2) or attribute.group(3) or attribute.group(4) or ""
            attributes[attribute.group(1).lower()] = _unescape_attribute(value)
            pos = attribute.end()
        self._check_attributes(name, attributes, start)
        self._open.append(_OpenTag(name, attributes, self._length))
        self._pos = end.end()

    def _check_attributes(self, name: str, attributes: dict[str, str], start: int) -> None:
        if name == "span" and attributes.get("class") != "tg-spoiler":
            offset = self._byte_offset(start)
            raise _HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise _HtmlError("Invalid custom emoji identifier specified")

    def _end_tag(self) -> None:
        offset = self._byte_offset(self._pos)
        if not self._open:
            raise _HtmlError(f"Unexpected end tag at byte offset {offset}")
        match = _END_TAG.match(self._source, self._pos)
        if match is None:
            raise _HtmlError(f"Unclosed end tag at byte offset {offset}")
        name, expected = match.group(1).lower(), self._open[-1].name
        if name and name != expected:
            raise _HtmlError(
                f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
                f'found "</{name}>"'
            )
        self._close(self._open.pop())
        self._pos = match.end()

    def _close(self, tag: _OpenTag) -> None:
        css_class = tag.attributes.get("class", "")
        language = css_class.removeprefix("language-") if css_class.startswith("language-") else ""
        if tag.name == "code" and language and self._open and self._open[-1].name == "pre":
            # <pre><code class="language-x"> is one "pre" entity with a language, not two.
            self._open[-1].attributes["language"] = language
            return
        length = self._length - tag.offset
        if length == 0 or (tag.name == "a" and not tag.attributes.get("href")):
            return
        entity: JSON = {"type": _ENTITY_TYPES[tag.name], "offset": tag.offset, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attributes["href"]
        elif tag.name == "pre" and "language" in tag.attributes:
            entity["language"] = tag.attributes["language"]
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        self._entities.append(entity)


def _parse_text(text: str, parse_mode: str | None) -> _ParsedText:
    """The text as users read it, with its entities; 400 for markup Telegram would refuse."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return _HtmlParser(text).parse()
        except _HtmlError as error:
            raise _bad_request(f"can't parse entities: {error}") from None
    if mode in ("", "markdown", "markdownv2"):
        return _ParsedText(text, [])
    raise _bad_request("unsupported parse_mode")


def _check_message_text(text: str, parse_mode: str | None) -> None:
    parsed = _parse_text(text, parse_mode)
    if not parsed.text.strip():
        raise _bad_request("message text is empty")
    if _utf16_length(parsed.text) > MESSAGE_LIMIT:
        raise _bad_request("message is too long")


def _check_caption(caption: str | None, parse_mode: str | None) -> None:
    if caption is not None and _utf16_length(_parse_text(caption, parse_mode).text) > CAPTION_LIMIT:
        raise _bad_request("message caption is too long")


def _check_reply_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:  # reply keyboards, ForceReply and removals are taken as they are
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" must be an Array of Arrays')
    for button in itertools.chain.from_iterable(rows):
        _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise _bad_request("text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 0 < len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise _bad_request("BUTTON_DATA_INVALID")
    elif not _BUTTON_ACTIONS & button.keys():
        raise _bad_request("text buttons are unallowed in the inline keyboard")


def _link_preview_options(params: _Params) -> JSON | None:
    """The link preview options a text message keeps, as Telegram returns them on the sent
    Message and in every update that carries it (a button's `callback_query.message`): the
    options the call set, or `is_disabled` for the older `disable_web_page_preview`. None when
    the call left the preview as it is, and Telegram leaves the field out."""
    options = params.json("link_preview_options")
    if options is not None and not isinstance(options, dict):
        raise _bad_request("can't parse link preview options JSON object")
    kept: JSON = {
        name: value
        for name, value in (options or {}).items()
        if name in _LINK_PREVIEW_FIELDS and value not in (None, False, "")
    }
    if params.flag("disable_web_page_preview"):
        kept["is_disabled"] = True
    return kept or None


def _inline_keyboard(markup: JSON | None) -> JSON | None:
    """The part of a reply_markup that becomes part of the message; the rest is not echoed."""
    return markup if markup is not None and "inline_keyboard" in markup else None


# --- what the fake records ---------------------------------------------------------------------


@dataclass
class SentMessage:
    """One message the bot created. `text` is the text or caption as sent, still HTML."""

    message_id: int
    chat_id: int
    thread_id: int | None
    method: str  # "sendMessage", "sendPhoto", "sendMediaGroup" or "sendDocument"
    text: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    photo: str | None  # file_id
    document: str | None = None  # file_id, for sendDocument
    at: float = field(default_factory=time.monotonic)
    # Fields the server fills in (from, chat, date, photo sizes, media_group_id, edit_date) so
    # that to_json() matches what Telegram returned to the bot.
    telegram_fields: JSON = field(default_factory=dict, repr=False)

    @property
    def plain(self) -> str:
        """The text as the user reads it: tags stripped, entities decoded ("" when none)."""
        return "" if self.text is None else _parse_text(self.text, self.parse_mode).text

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data) of the inline keyboard; [] when there is none."""
        rows = (_inline_keyboard(self.reply_markup) or {}).get("inline_keyboard", [])
        return [[(button["text"], button.get("callback_data")) for button in row] for row in rows]

    def to_json(self) -> JSON:
        """The Telegram Message object, as the bot got it back."""
        message: JSON = {"message_id": self.message_id, **self.telegram_fields}
        if self.thread_id is not None:
            message |= {"message_thread_id": self.thread_id, "is_topic_message": True}
        if self.text is not None:
            parsed = _parse_text(self.text, self.parse_mode)
            is_text = self.method == "sendMessage"
            message["text" if is_text else "caption"] = parsed.text
            if parsed.entities:
                message["entities" if is_text else "caption_entities"] = parsed.entities
        if (keyboard := _inline_keyboard(self.reply_markup)) is not None:
            message["reply_markup"] = keyboard
        # A copy, so a test or a client that changes it cannot change the record.
        return copy.deepcopy(message)


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool


@dataclass
class WebhookInfo:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int


@dataclass
class ForumTopic:
    """A topic of a forum, created by the bot or by a user.

    `history` is every name it has had: the one it was created with first, the current one last.
    """

    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    history: list[str] = field(default_factory=list)
    # The service message that created it (forum_topic_created): Telegram sets it as the
    # reply_to_message of every message in the topic.
    created: JSON = field(default_factory=dict, repr=False)

    def to_json(self) -> JSON:
        """The Telegram ForumTopic object, as createForumTopic returns it."""
        topic: JSON = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


# --- request parsing and other internals -------------------------------------------------------


class _Params:
    """A method's parameters, typed the way Telegram reads them.

    Clients send form fields (strings; complex values as JSON text) or a JSON body (native values),
    and uploaded files as multipart parts; each getter accepts every one of these forms.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        return str(value)

    def integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None

    def chat_id(self) -> int:
        value = self._values.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            # "@channelname" addresses exist, but no such chat exists here.
            raise _bad_request("chat not found") from None

    def flag(self, name: str) -> bool:
        return self._values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str | bytes):
            return value
        try:
            return json.loads(value)
        except ValueError:
            label = "reply keyboard markup" if name == "reply_markup" else name
            raise _bad_request(f"can't parse {label} JSON object") from None

    def file(self, name: str) -> bytes | str | None:
        return self.attachment(self._values.get(name))

    def attachment(self, value: Any) -> bytes | str | None:
        """An uploaded file's bytes (given directly or as "attach://<part>"), or a file_id/URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._values.get(value.removeprefix("attach://"))
        return value if isinstance(value, bytes | str) else None


async def _read_params(request: web.Request) -> _Params:
    values: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            values |= body
    elif request.method == "POST":
        for name, value in (await request.post()).items():
            values[name] = value.file.read() if isinstance(value, web.FileField) else value
    return _Params(values)


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str


@dataclass(eq=False)  # compared by identity: a replay is a second entry with the same content
class _Queued:
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


@dataclass
class _TokenBucket:
    """Telegram's flood limits as a token bucket: bursts up to `capacity`, then `rate` a second."""

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

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class _Fault:
    method: str  # lower-case method name, or "*"
    kind: str
    remaining: int
    retry_after: int
    skip: int = 0  # calls let through before the first that fails

    def error(self) -> Exception:
        return _FAULTS[self.kind](self.retry_after)


@dataclass
class _Slowness:
    method: str  # lower-case method name, or "*"
    seconds: float
    remaining: int


_FAULTS: dict[str, Callable[[int], Exception]] = {
    "429": _too_many_requests,
    "500": lambda _: _ApiError(500, "Internal Server Error"),
    "502": lambda _: _ApiError(502, "Bad Gateway"),
    "drop": lambda _: _DropConnection(),
    "blocked": lambda _: _ApiError(403, BLOCKED),
    "gone": lambda _: _bad_request(FILE_GONE),
}


class _Signal:
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


def _fake_content(size: int, head: bytes, tail: bytes = b"") -> bytes:
    """`size` bytes that start like the real format, so sniffing clients are not surprised."""
    return (head + bytes(max(0, size - len(head) - len(tail))) + tail)[:size]


def _jpeg(size: int) -> bytes:
    return _fake_content(size, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd9")


def _error_response(error: _ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.code)


# --- the server --------------------------------------------------------------------------------


class FakeBotAPI:
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
        global_per_second: float = 30.0,
        global_burst: int = 30,
        group_per_minute: float = 20.0,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.base_url = ""
        # What the bot did.
        self.sent: list[SentMessage] = []
        # Called with each message the bot sends, as it is recorded: benchmarks time replies.
        self.on_sent: list[Callable[[SentMessage], None]] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.commands: dict[tuple[str, str | None], list[JSON]] = {}
        # Forum topics by (chat_id, message_thread_id); a deleted topic is removed.
        self.topics: dict[tuple[int, int], ForumTopic] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.responses_429 = 0
        self.webhook: WebhookInfo | None = None
        self.delivery_status: dict[int, list[int | str]] = {}
        # Flood limits.
        self._enforce_limits = enforce_limits
        self._chat_limit = (per_chat_per_second, float(per_chat_burst))
        self._group_limit = (group_per_minute / 60, float(GROUP_BURST))
        self._chat_buckets: dict[int, _TokenBucket] = {}
        self._global_bucket = _TokenBucket(global_per_second, float(global_burst))
        # Chats, messages, files.
        self._chats: dict[int, JSON] = {}
        self._plain_groups: set[int] = set()
        self._deleted_topics: set[tuple[int, int]] = set()
        self._last_message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._files: dict[str, _StoredFile] = {}
        self._downloads_broken = False
        self._files_by_path: dict[str, _StoredFile] = {}
        self._serial = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._slowness: list[_Slowness] = []
        # Updates: one queue serves both getUpdates and the webhook, as in Telegram.
        self._pending: list[_Queued] = []
        self._last_update_id = 0
        self._delivered: set[int] = set()
        self._filtered: dict[int, str] = {}
        self._allowed_updates: list[str] | None = None
        self._last_webhook_error: tuple[int, str] | None = None
        self._poll_generation = 0
        self._changed = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhook_worker: asyncio.Task[None] | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._handlers().items()
        }

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
            "deleteForumTopic": self._delete_forum_topic,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._accept,
            "logOut": self._accept,
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
        self._closing = False
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT))
        self._webhook_worker = asyncio.create_task(self._deliver_webhook_updates())
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        self._changed.notify()
        if self._webhook_worker is not None:
            self._webhook_worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_worker
        if self._http is not None:
            await self._http.close()
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

    # --- what the bot sent ---

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    def messages_in_topic(self, chat_id: int, thread_id: int) -> list[SentMessage]:
        return [
            message
            for message in self.sent
            if message.chat_id == chat_id and message.thread_id == thread_id
        ]

    # --- chats ---

    def make_plain_group(self, chat_id: int) -> None:
        """Make a group chat an ordinary supergroup, without topics (negative ids are forums)."""
        if chat_id >= 0:
            raise ValueError(f"chat {chat_id} is a private chat, not a group")
        self._plain_groups.add(chat_id)

    def _is_forum(self, chat_id: int) -> bool:
        return chat_id < 0 and chat_id not in self._plain_groups

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
        if kind not in _FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {sorted(_FAULTS)}")
        self._faults.append(_Fault(method.lower(), kind, times, retry_after, after))

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` ("*": any) `seconds` late. Each is carried
        out at once, as Telegram does when it is slow: a client that gives up waiting and
        calls again has the call carried out twice."""
        self._slowness.append(_Slowness(method.lower(), seconds, times))

    def break_downloads(self) -> None:
        """From now on file downloads answer 404, as a download path does once Telegram no
        longer serves it (an hour after getFile)."""
        self._downloads_broken = True

    def block_chat(self, chat_id: int) -> None:
        """From now on, sending to this chat fails as if the user blocked the bot."""
        self._blocked.add(chat_id)

    # --- files users sent ---

    def add_file(self, content: bytes) -> tuple[str, str]:
        """Keep a file the way Telegram keeps what users send; returns (file_id, file_unique_id)."""
        is_jpeg = content.startswith(b"\xff\xd8")
        stored = self._store(
            content, "photos" if is_jpeg else "documents", ".jpg" if is_jpeg else ""
        )
        return stored.file_id, stored.file_unique_id

    def _store(self, content: bytes, folder: str, suffix: str) -> _StoredFile:
        serial = next(self._serial)
        stored = _StoredFile(
            file_id=f"AgACAgIAAxkBAAI{serial:08d}",
            file_unique_id=f"AQAD{serial:06d}",
            content=content,
            file_path=f"{folder}/file_{serial}{suffix}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # --- updates ---

    def next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    async def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates or the webhook; assigns update_id if missing."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_update_id()
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        message = update.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            self._chats[message["chat"]["id"]] = message["chat"]
        self._delivered.discard(update_id)  # a replay must be delivered again
        queued = _Queued(update)
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

        def confirmed(queued: _Queued) -> bool:
            return queued.served and queued.update_id < offset

        self._delivered.update(queued.update_id for queued in self._pending if confirmed(queued))
        self._pending = [queued for queued in self._pending if not confirmed(queued)]
        self._changed.notify()

    # --- builders for what users do ---

    def user(self, user_id: int, first_name: str, language_code: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def text_update(
        self,
        user: JSON,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        link_preview_options: JSON | None = None,
    ) -> JSON:
        """A text message; private chat unless chat_id < 0 (a group).

        thread_id puts it into a topic of the forum, as Telegram sends it: message_thread_id,
        is_topic_message, and reply_to_message set to the topic's creation message. A topic the
        fake does not know is created first, by this user, as a person would in Telegram.
        link_preview_options: what Telegram sends on a message whose sender changed its link
        preview (turned it off, or chose another link or size).
        """
        content: JSON = {"text": text}
        if link_preview_options is not None:
            content["link_preview_options"] = link_preview_options
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_length(command)}
            ]
        return self._user_message(user, content, chat_id=chat_id, thread_id=thread_id)

    def photo_update(
        self,
        user: JSON,
        *,
        size: int = 50_000,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """A photo in three sizes, like Telegram sends them; the largest has file_size == size.

        chat_id and thread_id as for text_update.
        """
        photo = []
        for (width, height), file_size in zip(
            ((90, 68), (320, 240), (1280, 960)),
            (max(1, size // 20), max(1, size // 4), size),
            strict=True,
        ):
            stored = self._store(_jpeg(file_size), "photos", ".jpg")
            photo.append(self._photo_size(stored, width, height))
        content: JSON = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self._user_message(user, content, chat_id=chat_id, thread_id=thread_id)

    def document_update(
        self, user: JSON, *, mime_type: str, size: int, file_name: str = "file.bin"
    ) -> JSON:
        suffix = PurePosixPath(file_name).suffix
        stored = self._store(bytes(size), "documents", suffix)
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": size,
        }
        return self._user_message(user, {"document": document})

    def sticker_update(self, user: JSON) -> JSON:
        stored = self._store(_fake_content(2_000, b"RIFF\x00\x00\x00\x00WEBP"), "stickers", ".webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": len(stored.content),
        }
        return self._user_message(user, {"sticker": sticker})

    def voice_update(self, user: JSON) -> JSON:
        stored = self._store(_fake_content(4_000, b"OggS"), "voice", ".oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": len(stored.content),
        }
        return self._user_message(user, {"voice": voice})

    def callback_update(self, user: JSON, message: SentMessage, data: str) -> JSON:
        """The user pressed a button of `message`; answerCallbackQuery accepts its id once.

        The query carries the message as Telegram does, its topic (if any) included.
        """
        query_id = str(4_000_000_000_000_000_000 + next(self._serial))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message.to_json(),
            "chat_instance": str(7_000_000_000_000_000_000 + abs(message.chat_id)),
            "data": data,
        }
        return {"callback_query": query}

    def _user_message(
        self, user: JSON, content: JSON, *, chat_id: int | None = None, thread_id: int | None = None
    ) -> JSON:
        chat = self._chat_of(user, chat_id)
        self._chats[chat["id"]] = chat
        # The topic first: its creation message is older than any message in it.
        topic = self._topic_for_update(chat["id"], thread_id, user)
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
        if topic is not None:
            message["reply_to_message"] = copy.deepcopy(topic.created)
        return {"message": message}

    def _topic_for_update(
        self, chat_id: int, thread_id: int | None, user: JSON
    ) -> ForumTopic | None:
        if thread_id is None or chat_id > 0:  # topics of private chats are not modelled
            return None
        if not self._is_forum(chat_id):
            raise ValueError(f"chat {chat_id} is not a forum: its messages are in no topic")
        if thread_id <= GENERAL_TOPIC_ID:
            raise ValueError("messages in the General topic have no thread_id: pass None")
        if (chat_id, thread_id) in self._deleted_topics:
            raise ValueError(f"topic {thread_id} of chat {chat_id} was deleted")
        if (chat_id, thread_id) in self.topics:
            return self.topics[chat_id, thread_id]
        if (chat_id, thread_id) in self._messages:
            raise ValueError(f"message {thread_id} of chat {chat_id} is the bot's, not a topic")
        # A topic someone created outside the test: its creation message takes the thread id.
        last = self._last_message_ids.get(chat_id, GENERAL_TOPIC_ID)
        self._last_message_ids[chat_id] = max(last, thread_id)
        return self._add_topic(
            chat_id, thread_id, f"Topic {thread_id}", icon_color=DEFAULT_TOPIC_COLOR, creator=user
        )

    def _add_topic(
        self,
        chat_id: int,
        thread_id: int,
        name: str,
        *,
        icon_color: int,
        creator: JSON,
        icon_custom_emoji_id: str | None = None,
    ) -> ForumTopic:
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        topic = ForumTopic(
            chat_id=chat_id,
            message_thread_id=thread_id,
            name=name,
            icon_color=icon_color,
            icon_custom_emoji_id=icon_custom_emoji_id or None,
            history=[name],
            created={
                "message_id": thread_id,
                "from": creator,
                "chat": self._chat_json(chat_id),
                "date": int(time.time()),
                "message_thread_id": thread_id,
                "forum_topic_created": created,
                "is_topic_message": True,
            },
        )
        self.topics[chat_id, thread_id] = topic
        return topic

    def _chat_of(self, user: JSON, chat_id: int | None) -> JSON:
        if chat_id is not None and chat_id < 0:
            return self._group_chat(chat_id)
        chat: JSON = {"id": user["id"] if chat_id is None else chat_id, "type": "private"}
        chat |= {key: user[key] for key in ("first_name", "last_name", "username") if key in user}
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        # One sequence per chat for both sides, as in Telegram: ids never repeat within a chat.
        # Message 1 of a supergroup is the service message of its creation, so a topic never
        # gets thread id 1: that one is the General topic.
        first = GENERAL_TOPIC_ID if chat_id < 0 else 0
        self._last_message_ids[chat_id] = self._last_message_ids.get(chat_id, first) + 1
        return self._last_message_ids[chat_id]

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": self.username,
        }

    def _chat_json(self, chat_id: int) -> JSON:
        if chat_id < 0:
            return self._group_chat(chat_id)
        if chat_id in self._chats:
            return self._chats[chat_id]
        return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}

    def _group_chat(self, chat_id: int) -> JSON:
        chat: JSON = {"id": chat_id, "title": GROUP_TITLE, "type": "supergroup"}
        if self._is_forum(chat_id):
            chat["is_forum"] = True
        return chat

    @staticmethod
    def _photo_size(stored: _StoredFile, width: int, height: int) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": width,
            "height": height,
        }

    # --- HTTP ---

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(_ApiError(401, "Unauthorized"))
        try:
            params = await _read_params(request)
            result = await self._call(request.match_info["method"], params)
        except _DropConnection:
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never written: the connection is gone
        except _ApiError as error:
            return _error_response(error)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(_ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or self._downloads_broken:
            return _error_response(_ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _call(self, name: str, params: _Params) -> Any:
        # Telegram ignores the case of method names; calls are counted under the documented one.
        method, handler = self._methods.get(name.lower(), (name, None))
        self.calls[method] += 1
        try:
            if handler is None:
                raise _ApiError(404, "Not Found")
            if (fault := self._take_fault(method)) is not None:
                raise fault.error()
            result = await handler(params)
            if (late := self._take_slowness(method)) is not None:
                await asyncio.sleep(late)
            return result
        except _ApiError as error:
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

    def _take_fault(self, method: str) -> _Fault | None:
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

    async def _accept(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> JSON:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> list[JSON]:
        if self.webhook is not None:
            raise _ApiError(409, WEBHOOK_CONFLICT)
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
                raise _ApiError(409, POLL_CONFLICT)
        for queued in ready:
            queued.served = True
        return [queued.update for queued in ready]

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.text("url") or ""
        secret = params.text("secret_token") or None
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed)
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        max_connections = params.integer("max_connections") or 40
        self.webhook = WebhookInfo(url, secret, allowed, max_connections) if url else None
        self._changed.notify()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        self._changed.notify()
        return True

    async def _get_webhook_info(self, params: _Params) -> JSON:
        info: JSON = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }
        if self.webhook is not None:
            info |= {"max_connections": self.webhook.max_connections, "ip_address": "127.0.0.1"}
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        if self._last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    # --- methods: sending ---

    async def _send_message(self, params: _Params) -> JSON:
        chat_id = params.chat_id()
        text, parse_mode = params.text("text") or "", params.text("parse_mode")
        _check_message_text(text, parse_mode)
        markup = params.json("reply_markup")
        _check_reply_markup(markup)
        preview = _link_preview_options(params)
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

    async def _send_photo(self, params: _Params) -> JSON:
        chat_id = params.chat_id()
        caption, parse_mode = params.text("caption"), params.text("parse_mode")
        _check_caption(caption, parse_mode)
        markup = params.json("reply_markup")
        _check_reply_markup(markup)
        stored = self._photo_file(params.file("photo"))
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
        )
        return message.to_json()

    async def _send_document(self, params: _Params) -> JSON:
        chat_id = params.chat_id()
        caption, parse_mode = params.text("caption"), params.text("parse_mode")
        _check_caption(caption, parse_mode)
        file_id = params.text("document") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if not stored.file_path.startswith("documents/"):
            raise _bad_request("can't use file of type Photo as Document")
        thread_id = self._thread_for_send(chat_id, params)
        self._admit_send(chat_id)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        message = self._record(
            chat_id,
            method="sendDocument",
            thread_id=thread_id,
            text=caption,
            parse_mode=parse_mode,
            extra={"document": document},
        )
        message.document = stored.file_id
        return message.to_json()

    async def _send_media_group(self, params: _Params) -> list[JSON]:
        chat_id = params.chat_id()
        media = params.json("media")
        if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
            # Telegram takes 2 to 10 items.
            raise _bad_request("wrong number of media in the media group")
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
            ).to_json()
            for stored, caption, mode in items
        ]

    def _media_item(self, item: Any, params: _Params) -> tuple[_StoredFile, str | None, str | None]:
        if not isinstance(item, dict):
            raise _bad_request("can't parse InputMedia JSON object")
        if item.get("type") != "photo":
            raise _bad_request(
                f"the fake Bot API only models photo media groups, not {item.get('type')!r}"
            )
        fields = _Params(item)
        caption, parse_mode = fields.text("caption"), fields.text("parse_mode")
        _check_caption(caption, parse_mode)
        return self._photo_file(params.attachment(item.get("media"))), caption, parse_mode

    def _photo_file(self, photo: bytes | str | None) -> _StoredFile:
        if isinstance(photo, bytes):
            return self._store(photo, "photos", ".jpg")
        if photo is None or photo == "":
            raise _bad_request("there is no photo in the request")
        if photo in self._files:
            stored = self._files[photo]
            # As Telegram: a file is sent again by its id only as what it is.
            if stored.file_path.startswith("documents/"):
                raise _bad_request("can't use file of type Document as Photo")
            return stored
        if photo.startswith(("http://", "https://")):
            # Telegram would download it; a stand-in keeps tests off the network.
            return self._store(_jpeg(50_000), "photos", ".jpg")
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _thread_for_send(self, chat_id: int, params: _Params) -> int | None:
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
            raise _bad_request("message thread not found")
        return thread_id

    def _admit_send(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise _ApiError(403, BLOCKED)
        if not self._enforce_limits:
            return
        buckets = (self._chat_bucket(chat_id), self._global_bucket)
        now = time.monotonic()
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take()

    def _chat_bucket(self, chat_id: int) -> _TokenBucket:
        if chat_id not in self._chat_buckets:
            rate, burst = self._group_limit if chat_id < 0 else self._chat_limit
            self._chat_buckets[chat_id] = _TokenBucket(rate, burst)
        return self._chat_buckets[chat_id]

    def _record(
        self,
        chat_id: int,
        *,
        method: str,
        thread_id: int | None,
        text: str | None,
        parse_mode: str | None,
        markup: JSON | None = None,
        photo: _StoredFile | None = None,
        extra: JSON | None = None,
    ) -> SentMessage:
        fields: JSON = {
            "from": self._bot_user(),
            "chat": self._chat_json(chat_id),
            "date": int(time.time()),
        }
        if photo is not None:
            fields["photo"] = [self._photo_size(photo, 1280, 960)]
        if thread_id is not None and (topic := self.topics.get((chat_id, thread_id))) is not None:
            fields["reply_to_message"] = copy.deepcopy(topic.created)
        message = SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            thread_id=thread_id,
            method=method,
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            photo=photo.file_id if photo else None,
            telegram_fields=fields | (extra or {}),
        )
        self.sent.append(message)
        self._messages[chat_id, message.message_id] = message
        for listener in self.on_sent:
            listener(message)
        return message

    # --- methods: editing ---

    async def _edit_message_text(self, params: _Params) -> JSON:
        message = self._editable(params)
        text, parse_mode = params.text("text") or "", params.text("parse_mode")
        _check_message_text(text, parse_mode)
        # No reply_markup in the call removes the keyboard, exactly as in Telegram.
        markup = params.json("reply_markup")
        _check_reply_markup(markup)
        if message.method != "sendMessage":
            raise _bad_request("there is no text in the message to edit")
        unchanged_text = _parse_text(text, parse_mode) == _parse_text(
            message.text or "", message.parse_mode
        )
        self._check_modified(message, unchanged_text, markup)
        message.text, message.parse_mode = text, parse_mode
        # As on a send: the options the edit asked for are the message's from now on.
        preview = _link_preview_options(params)
        message.telegram_fields.pop("link_preview_options", None)
        if preview:
            message.telegram_fields["link_preview_options"] = preview
        return self._edited(message, markup)

    async def _edit_message_reply_markup(self, params: _Params) -> JSON:
        message = self._editable(params)
        markup = params.json("reply_markup")
        _check_reply_markup(markup)
        self._check_modified(message, True, markup)
        return self._edited(message, markup)

    def _editable(self, params: _Params) -> SentMessage:
        key = (params.chat_id(), params.integer("message_id") or 0)
        if key not in self._messages:
            raise _bad_request("message to edit not found")
        return self._messages[key]

    @staticmethod
    def _check_modified(message: SentMessage, unchanged_text: bool, markup: JSON | None) -> None:
        if unchanged_text and _inline_keyboard(markup) == _inline_keyboard(message.reply_markup):
            raise _bad_request(NOT_MODIFIED)

    @staticmethod
    def _edited(message: SentMessage, markup: JSON | None) -> JSON:
        message.reply_markup = markup
        message.telegram_fields["edit_date"] = int(time.time())
        return message.to_json()

    # --- methods: chats and forum topics ---

    async def _get_chat(self, params: _Params) -> JSON:
        chat_id = params.chat_id()
        chat = copy.deepcopy(self._chat_json(chat_id))
        # The fields ChatFullInfo requires; a group's members may write but not manage it.
        chat |= {
            "accent_color_id": abs(chat_id) % ACCENT_COLORS,
            "max_reaction_count": MAX_REACTIONS,
            "accepted_gift_types": dict.fromkeys(_GIFT_TYPES, chat_id > 0),
        }
        if chat_id < 0:
            chat["permissions"] = dict.fromkeys(_MEMBER_PERMISSIONS, True) | dict.fromkeys(
                _ADMIN_PERMISSIONS, False
            )
        return chat

    async def _create_forum_topic(self, params: _Params) -> JSON:
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

    async def _edit_forum_topic(self, params: _Params) -> bool:
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
            raise _bad_request("TOPIC_NOT_MODIFIED")
        if renamed:
            topic.name = name
            topic.history.append(name)
        if new_icon:
            topic.icon_custom_emoji_id = emoji or None
        self._next_message_id(topic.chat_id)  # the forum_topic_edited service message
        return True

    async def _close_forum_topic(self, params: _Params) -> bool:
        return self._set_topic_closed(self._topic(params), closed=True)

    async def _reopen_forum_topic(self, params: _Params) -> bool:
        return self._set_topic_closed(self._topic(params), closed=False)

    def _set_topic_closed(self, topic: ForumTopic, *, closed: bool) -> bool:
        # Bots are admins: they still post to a closed topic, and it is not checked here.
        if topic.closed == closed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        self._next_message_id(topic.chat_id)  # the forum_topic_closed/reopened service message
        return True

    async def _delete_forum_topic(self, params: _Params) -> bool:
        topic = self._topic(params)
        key = (topic.chat_id, topic.message_thread_id)
        del self.topics[key]
        self._deleted_topics.add(key)
        # Its messages go with it: they can no longer be edited. `sent` keeps what the bot did.
        self._messages = {
            message_key: message
            for message_key, message in self._messages.items()
            if (message.chat_id, message.thread_id) != key
        }
        return True

    def _forum_id(self, params: _Params) -> int:
        chat_id = params.chat_id()
        if not self._is_forum(chat_id):
            raise _bad_request(NOT_A_FORUM)
        return chat_id

    def _topic(self, params: _Params) -> ForumTopic:
        chat_id = self._forum_id(params)
        thread_id = params.integer("message_thread_id") or 0
        if thread_id <= 0:
            raise _bad_request("invalid message thread identifier specified")
        if (chat_id, thread_id) not in self.topics:
            raise _bad_request("TOPIC_ID_INVALID")
        return self.topics[chat_id, thread_id]

    # --- methods: callbacks, files, commands ---

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        text = params.text("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG")
        # A query can be answered once; after that Telegram treats its id as unknown.
        if query_id not in self._open_callbacks:
            raise _bad_request(QUERY_INVALID)
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = CallbackAnswer(query_id, text, params.flag("show_alert"))
        return True

    async def _get_file(self, params: _Params) -> JSON:
        stored = self._files.get(params.text("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        self.commands[self._commands_key(params)] = [_checked_command(item) for item in commands]
        return True

    async def _get_my_commands(self, params: _Params) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: _Params) -> tuple[str, str | None]:
        scope = params.json("scope") or {"type": "default"}
        # Canonical JSON, so the same scope is the same key whichever client sent it.
        return json.dumps(scope, sort_keys=True, separators=(",", ":")), params.text(
            "language_code"
        ) or None

    # --- webhook delivery ---

    async def _deliver_webhook_updates(self) -> None:
        while True:
            if self.webhook is not None and self._pending:
                await self._deliver(self._pending[0])
            else:
                await self._changed.wait(None)

    async def _deliver(self, queued: _Queued) -> None:
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
            self._last_webhook_error = (
                int(time.time()),
                f"Wrong response from the webhook: {status}",
            )
            await asyncio.sleep(WEBHOOK_RETRY_DELAY)
        # Delivered, or given up on after WEBHOOK_TRIES like Telegram eventually does.
        self._pending = [waiting for waiting in self._pending if waiting is not queued]
        self._changed.notify()

    async def _post_update(self, webhook: WebhookInfo, update: JSON) -> int | str:
        assert self._http is not None  # created by start(), like this task
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with self._http.post(webhook.url, json=update, headers=headers) as response:
                if response.ok:
                    await self._run_webhook_reply(response)
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return "error"

    async def _run_webhook_reply(self, response: aiohttp.ClientResponse) -> None:
        """Run the method a webhook may answer with, as Telegram does (its result goes nowhere)."""
        try:
            body = await _read_reply(response)
        except (ValueError, aiohttp.ClientError):
            return
        if isinstance(body.get("method"), str):
            with contextlib.suppress(_ApiError, _DropConnection):
                await self._call(body["method"], _Params(body))


def _checked_topic_name(name: str) -> str:
    if not name.strip():
        raise _bad_request("title must be non-empty")  # Telegram's words for an empty name
    if len(name) > TOPIC_NAME_LIMIT:
        raise _bad_request("TOPIC_NAME_INVALID")  # Telegram would cut it: see the module docstring
    return name


def _checked_command(item: Any) -> JSON:
    if not isinstance(item, dict) or not _BOT_COMMAND.fullmatch(str(item.get("command", ""))):
        raise _bad_request("BOT_COMMAND_INVALID")
    description = str(item.get("description", ""))
    if not 0 < len(description) <= 256:
        raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": item["command"], "description": description}


async def _read_reply(response: aiohttp.ClientResponse) -> JSON:
    """A webhook's answer body: JSON, or multipart form data as aiogram writes it."""
    if response.content_type == "application/json":
        body = await response.json()
        return body if isinstance(body, dict) else {}
    if response.content_type != "multipart/form-data":
        return {}
    values: JSON = {}
    reader = aiohttp.MultipartReader(response.headers, response.content)
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            values[part.name] = bytes(await part.read()) if part.filename else await part.text()
    return values


__all__ = ["CallbackAnswer", "FakeBotAPI", "ForumTopic", "SentMessage", "WebhookInfo"]
