"""How a sandbox person's actions reach the bot. The engine channel hands events straight to the
engine; a Telegram channel (bot.testing.telegram) sends real updates through a Bot API server,
so the same conversation runs through aiogram or python-telegram-bot."""

from __future__ import annotations

from typing import Protocol

from bot.engine.events import Author, Outcome
from bot.rendering import Renderer
from bot.sandbox.memory import Delivered


class Channel(Protocol):
    renderer: Renderer

    def inbox(self, chat_id: int) -> list[Delivered]:
        """What the chat shows, oldest first."""
        ...

    async def text(
        self, author: Author, chat_id: int, text: str, key: str | None, thread_id: int | None = None
    ) -> Outcome:
        """A message in a chat (a group's forum topic when `thread_id` is given)."""
        ...

    async def photo(
        self,
        author: Author,
        chat_id: int,
        caption: str | None,
        size: int,
        thread_id: int | None = None,
    ) -> Outcome: ...

    async def unsupported(self, author: Author, chat_id: int, what: str) -> Outcome: ...

    async def press(
        self, author: Author, chat_id: int, payload: str, message: Delivered | None, key: str | None
    ) -> Outcome:
        """A button press; `message` is the message the button is on (None: the newest)."""
        ...
