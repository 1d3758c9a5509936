"""What a messenger adapter implements to deliver one outbox row."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outbound:
    id: int
    chat_id: int
    thread_id: int | None
    text: str
    buttons: list[list[dict[str, str]]] | None
    photos: list[str] | None
    topic_of: int | None = None
    action: str | None = None  # a topic action (topic_open, ...) instead of a message
    files: list[dict[str, str]] | None = None  # uploads, as the outbox row keeps them

    def uploads(self, kind: str) -> list[tuple[str, bytes]]:
        """The (name, content) of the row's uploaded files of one kind, in order."""
        return [
            (file["name"], base64.b64decode(file["base64"]))
            for file in self.files or []
            if file["kind"] == kind
        ]

    def in_thread(self, thread_id: int | None) -> Outbound:
        return replace(self, thread_id=thread_id)


class DeliveryError(Exception):
    pass


class RetryAfterError(DeliveryError):
    """The messenger asked us to slow down (Telegram's 429 with retry_after)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TemporaryError(DeliveryError):
    """5xx or a network failure: worth trying again later."""


class PermanentError(DeliveryError):
    """The chat is gone, the bot was blocked, or the message can never be sent."""


class UncertainDeliveryError(DeliveryError):
    """The message went out and no answer came back in time: the messenger may have accepted
    it. Telegram has no idempotency key, so sending it again could show it twice; the sender
    records it as maybe delivered instead (docs/telegram.md). `message_id` is the last message
    of the row known to be delivered, if any."""

    def __init__(self, reason: str, message_id: int | None = None) -> None:
        super().__init__(reason)
        self.message_id = message_id


class Transport(Protocol):
    async def deliver(self, message: Outbound) -> int:
        """Send one outbox row; return the id of the (last) message the messenger created, or
        for topic_open the new topic's thread id."""
        ...


TOPIC_ACTIONS = ("topic_open", "topic_rename", "topic_close", "topic_reopen")


MAX_TEXT = 4096


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks so each part fits; templates keep every HTML tag on one line, so a
    part never ends inside a tag pair. A single overlong line is cut at the limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        rest = line
        while len(rest) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(rest[:limit])
            rest = rest[limit:]
        candidate = f"{current}\n{rest}" if current else rest
        if len(candidate) > limit:
            parts.append(current)
            current = rest
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
