"""What users do, as the updates Telegram would send for it: messages, files, button presses."""

from __future__ import annotations

import copy
import time
from pathlib import PurePosixPath

from bot.testing.botapi.errors import JSON
from bot.testing.botapi.html import utf16_length
from bot.testing.botapi.records import (
    DEFAULT_TOPIC_COLOR,
    GENERAL_TOPIC_ID,
    ForumTopic,
    Records,
    SentMessage,
    fake_content,
    jpeg,
)


class SimulatedUsers(Records):
    """Builds the updates of users; push them with FakeBotAPI.push_update."""

    def __init__(self, *, bot_id: int, username: str) -> None:
        super().__init__(bot_id=bot_id, username=username)
        # Callback queries not answered yet: answerCallbackQuery accepts each id once.
        self._open_callbacks: set[str] = set()

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
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
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
            stored = self._store(jpeg(file_size), "photos", ".jpg")
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
        stored = self._store(fake_content(2_000, b"RIFF\x00\x00\x00\x00WEBP"), "stickers", ".webp")
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
        stored = self._store(fake_content(4_000, b"OggS"), "voice", ".oga")
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
        if (chat_id, thread_id) in self.topics:
            return self.topics[chat_id, thread_id]
        if (chat_id, thread_id) in self._bot_messages:
            raise ValueError(f"message {thread_id} of chat {chat_id} is the bot's, not a topic")
        # A topic someone created outside the test: its creation message takes the thread id.
        last = self._last_message_ids.get(chat_id, GENERAL_TOPIC_ID)
        self._last_message_ids[chat_id] = max(last, thread_id)
        return self._add_topic(
            chat_id, thread_id, f"Topic {thread_id}", icon_color=DEFAULT_TOPIC_COLOR, creator=user
        )
