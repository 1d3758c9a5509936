"""A transport that delivers into lists, one per chat."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from bot.rendering import plain_text
from bot.runtime.outbox.transport import Outbound


@dataclass(frozen=True, slots=True)
class Delivered:
    """A message as the chat shows it."""

    message_id: int
    chat_id: int
    text: str  # Telegram HTML
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()  # (label, payload) rows
    photos: tuple[str, ...] = ()
    thread_id: int | None = None
    outbox_id: int | None = None
    # Files the bot made, as (kind, name, content): "photo"s shown as an album, "document"s.
    uploads: tuple[tuple[str, str, bytes], ...] = ()

    @property
    def plain(self) -> str:
        """The text as a person reads it: no tags, entities resolved."""
        return plain_text(self.text)

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]


@dataclass
class Topic:
    thread_id: int
    name: str
    closed: bool = False
    names: list[str] = field(default_factory=list)  # every name it had, first to last


@dataclass
class MemoryTransport:
    chats: dict[int, list[Delivered]] = field(default_factory=lambda: defaultdict(list))
    log: list[Delivered] = field(default_factory=list)
    topics: dict[tuple[int, int], Topic] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, message: Outbound) -> int:
        if message.action is not None:
            return self._topic(message)
        delivered = Delivered(
            message_id=next(self._ids),
            chat_id=message.chat_id,
            text=message.text,
            buttons=tuple(
                tuple((b["text"], b["data"]) for b in row) for row in (message.buttons or [])
            ),
            photos=tuple(message.photos or ()),
            thread_id=message.thread_id,
            outbox_id=message.id,
            uploads=tuple(
                (kind, name, content)
                for kind in ("photo", "document")
                for name, content in message.uploads(kind)
            ),
        )
        self.chats[message.chat_id].append(delivered)
        self.log.append(delivered)
        return delivered.message_id

    def _topic(self, message: Outbound) -> int:
        if message.action == "topic_open":
            thread = next(self._ids)
            self.topics[message.chat_id, thread] = Topic(thread, message.text, names=[message.text])
            return thread
        assert message.thread_id is not None
        topic = self.topics[message.chat_id, message.thread_id]
        if message.action == "topic_rename":
            topic.name = message.text
            topic.names.append(message.text)
        else:
            topic.closed = message.action == "topic_close"
        return message.thread_id

    def topic(self, chat_id: int, thread_id: int | None) -> Topic:
        assert thread_id is not None, "no topic"
        return self.topics[chat_id, thread_id]

    def in_topic(self, chat_id: int, thread_id: int | None) -> list[Delivered]:
        return [m for m in self.chats[chat_id] if m.thread_id == thread_id]
