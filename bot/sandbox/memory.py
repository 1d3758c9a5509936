"""A transport that delivers into lists, one per chat."""

from __future__ import annotations

import html
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from bot.delivery.transport import Outbound

_TAG = re.compile(r"<[^>]+>")


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

    @property
    def plain(self) -> str:
        """The text as a person reads it: no tags, entities resolved."""
        return html.unescape(_TAG.sub("", self.text))

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]


@dataclass
class MemoryTransport:
    chats: dict[int, list[Delivered]] = field(default_factory=lambda: defaultdict(list))
    log: list[Delivered] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, message: Outbound) -> int:
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
        )
        self.chats[message.chat_id].append(delivered)
        self.log.append(delivered)
        return delivered.message_id
