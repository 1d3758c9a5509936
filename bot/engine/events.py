"""What an adapter hands the engine, and what the engine hands back."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Author:
    """The person who sent an update, as the messenger names them."""

    id: int
    name: str = ""
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Photo:
    file_id: str
    file_unique_id: str
    size: int | None = None
    stored_path: str | None = None  # where the adapter saved the downloaded copy


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from one person in one chat."""

    key: str  # unique per update; a repeated key is acknowledged and ignored
    author: Author
    chat_id: int
    text: str | None = None
    payload: str | None = None  # the pressed button's data
    callback_id: str | None = None
    photos: tuple[Photo, ...] = ()
    caption: str | None = None
    thread_id: int | None = None  # a forum topic in a group
    # Something the bot cannot use ("sticker", "voice", "document", "photo_too_large" ...).
    unsupported: str | None = None
    # With "photo_too_large" or "file_too_large": the largest image kept, in bytes, to tell
    # the sender what is wrong with theirs.
    size_limit: int | None = None
    is_private: bool = True
    # Set only by the bot's own processes (the sweeper), never by a messenger adapter: what may
    # act as the system is decided by who built the event, not by what it says.
    system: bool = False

    @property
    def command(self) -> tuple[str, str] | None:
        """("start", "args") for "/start args" or "/start@bot args"."""
        if not self.text or not self.text.startswith("/"):
            return None
        head, _, args = self.text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        return (name, args.strip()) if name else None


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    payload: str


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot made (a report's chart or CSV), sent by uploading its bytes: "photo"s go
    as an album, a "document" under its name."""

    kind: str  # "photo" or "document"
    name: str
    content: bytes

    def to_json(self) -> dict[str, str]:
        """As the outbox row keeps it (a JSON column: the bytes as base64)."""
        encoded = base64.b64encode(self.content).decode("ascii")
        return {"kind": self.kind, "name": self.name, "base64": encoded}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered message owed to a chat, or an action on a forum topic (then `text` is the
    topic's name)."""

    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photos: tuple[str, ...] = ()
    # Sent after the text; kept in the outbox row itself, so a restart between
    # deciding and sending loses nothing.
    uploads: tuple[Upload, ...] = ()
    thread_id: int | None = None
    case_id: int | None = None
    template: str | None = None
    # The support topic of this case: its thread id is looked up when the row is sent, since the
    # topic may be created by an earlier row of the same outbox.
    topic_of: int | None = None
    # None for a message; else topic_open, topic_rename, topic_close or topic_reopen.
    action: str | None = None


@dataclass(slots=True)
class Outcome:
    duplicate: bool = False
    replies: list[Outgoing] = field(default_factory=list)
    callback_answer: str | None = None
    failed: bool = False  # a bug met the update; the person was told and the update recorded
