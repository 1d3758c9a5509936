"""What the fake keeps: the messages the bot sent, chats, forum topics and files."""

from __future__ import annotations

import copy
import itertools
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.testing.botapi.errors import JSON, bad_request
from bot.testing.botapi.html import parse_text
from bot.testing.botapi.markup import inline_keyboard

BOT_FIRST_NAME = "ReturnDesk Test"
GROUP_TITLE = "Support"
GENERAL_TOPIC_ID = 1  # a forum's General topic; its messages carry no message_thread_id
DEFAULT_TOPIC_COLOR = 0x6FB9F0


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
    # The photo or document was uploaded (its bytes sent), not sent again by a file id.
    uploaded: bool = False
    at: float = field(default_factory=time.monotonic)
    # Fields the server fills in (from, chat, date, photo sizes, media_group_id) so
    # that to_json() matches what Telegram returned to the bot.
    telegram_fields: JSON = field(default_factory=dict, repr=False)

    @property
    def plain(self) -> str:
        """The text as the user reads it: tags stripped, entities decoded ("" when none)."""
        return "" if self.text is None else parse_text(self.text, self.parse_mode).text

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data) of the inline keyboard; [] when there is none."""
        rows = (inline_keyboard(self.reply_markup) or {}).get("inline_keyboard", [])
        return [[(button["text"], button.get("callback_data")) for button in row] for row in rows]

    def to_json(self) -> JSON:
        """The Telegram Message object, as the bot got it back."""
        message: JSON = {"message_id": self.message_id, **self.telegram_fields}
        if self.thread_id is not None:
            message |= {"message_thread_id": self.thread_id, "is_topic_message": True}
        if self.text is not None:
            parsed = parse_text(self.text, self.parse_mode)
            is_text = self.method == "sendMessage"
            message["text" if is_text else "caption"] = parsed.text
            if parsed.entities:
                message["entities" if is_text else "caption_entities"] = parsed.entities
        if (keyboard := inline_keyboard(self.reply_markup)) is not None:
            message["reply_markup"] = keyboard
        # A copy, so a test or a client that changes it cannot change the record.
        return copy.deepcopy(message)


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool


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


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    # An uploaded document keeps the name it was sent with, and the type Telegram guesses from it.
    file_name: str | None = None
    mime_type: str | None = None


def fake_content(size: int, head: bytes, tail: bytes = b"") -> bytes:
    """`size` bytes that start like the real format, so sniffing clients are not surprised."""
    return (head + bytes(max(0, size - len(head) - len(tail))) + tail)[:size]


def jpeg(size: int) -> bytes:
    return fake_content(size, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd9")


class Records:
    """The state both sides share: what the bot sent, the chats, their topics, and files."""

    def __init__(self, *, bot_id: int, username: str) -> None:
        self.bot_id = bot_id
        self.username = username
        # What the bot did.
        self.sent: list[SentMessage] = []
        # Called with each message the bot sends, as it is recorded: benchmarks time replies.
        self.on_sent: list[Callable[[SentMessage], None]] = []
        # Forum topics by (chat_id, message_thread_id).
        self.topics: dict[tuple[int, int], ForumTopic] = {}
        self._chats: dict[int, JSON] = {}
        self._plain_groups: set[int] = set()
        self._last_message_ids: dict[int, int] = {}
        # (chat_id, message_id) of the bot's messages: a user's update cannot take one as a topic.
        self._bot_messages: set[tuple[int, int]] = set()
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._serial = itertools.count(1)

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

    def add_file(self, content: bytes) -> tuple[str, str]:
        """Keep a file the way Telegram keeps what users send; returns (file_id, file_unique_id)."""
        is_jpeg = content.startswith(b"\xff\xd8")
        stored = self._store(
            content, "photos" if is_jpeg else "documents", ".jpg" if is_jpeg else ""
        )
        return stored.file_id, stored.file_unique_id

    def file_content(self, file_id: str) -> bytes:
        """What is kept under a file id: what a user sent, or what the bot uploaded."""
        return self._files[file_id].content

    def _store_upload(self, content: bytes, filename: str | None) -> StoredFile:
        """A document the bot uploaded: Telegram names it after the part's filename."""
        if not content:
            raise bad_request("file must be non-empty")
        stored = self._store(content, "documents", "")
        stored.file_name = filename or "file"
        guessed, _ = mimetypes.guess_type(stored.file_name)
        stored.mime_type = guessed or "application/octet-stream"
        return stored

    def _store(self, content: bytes, folder: str, suffix: str) -> StoredFile:
        serial = next(self._serial)
        stored = StoredFile(
            file_id=f"AgACAgIAAxkBAAI{serial:08d}",
            file_unique_id=f"AQAD{serial:06d}",
            content=content,
            file_path=f"{folder}/file_{serial}{suffix}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

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
    def _photo_size(stored: StoredFile, width: int, height: int) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": width,
            "height": height,
        }

    def _record(
        self,
        chat_id: int,
        *,
        method: str,
        thread_id: int | None,
        text: str | None,
        parse_mode: str | None,
        markup: JSON | None = None,
        photo: StoredFile | None = None,
        extra: JSON | None = None,
        uploaded: bool = False,
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
            uploaded=uploaded,
            telegram_fields=fields | (extra or {}),
        )
        self.sent.append(message)
        self._bot_messages.add((chat_id, message.message_id))
        for listener in self.on_sent:
            listener(message)
        return message
