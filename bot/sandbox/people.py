"""A person in the sandbox: sends text and photos, presses buttons by their label, and reads
what the bot sent them. Tests read like the conversation they check."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.events import Author, Outcome
from bot.rendering import Reader
from bot.sandbox.channel import Channel
from bot.sandbox.memory import Delivered


class NoSuchButtonError(AssertionError):
    pass


@dataclass
class Participant:
    channel: Channel
    user_id: int
    name: str
    language_code: str | None = None
    locale: str = "en"  # the language the bot answers in, for `tap`
    answers: list[str] = field(default_factory=list)  # pop-ups shown on pressed buttons

    @property
    def author(self) -> Author:
        return Author(self.user_id, self.name, self.language_code)

    @property
    def chat_id(self) -> int:
        return self.user_id  # a private chat with the bot

    # -- reading -----------------------------------------------------------------------------
    @property
    def inbox(self) -> list[Delivered]:
        return self.channel.inbox(self.chat_id)

    @property
    def last(self) -> Delivered:
        inbox = self.inbox
        if not inbox:
            raise AssertionError(f"{self.name} has received nothing")
        return inbox[-1]

    def label(self, macro: str, /, **variables: object) -> str:
        """A button label (a macro of labels.j2) as this person sees it, in their language."""
        return self.channel.renderer.label(macro, Reader(self.locale), **variables)

    def button(self, label: str, message: Delivered | None = None) -> str:
        """The payload of the button labelled `label` (exactly, else as a part of the label), on
        `message`, or on the newest message that has such a button."""
        return self._find(label, message)[0]

    def _find(self, label: str, message: Delivered | None) -> tuple[str, Delivered]:
        candidates = [message] if message else [m for m in reversed(self.inbox) if m.buttons]
        for candidate in candidates:
            buttons = [b for row in candidate.buttons for b in row]
            exact = [payload for text, payload in buttons if text == label]
            loose = [payload for text, payload in buttons if label.lower() in text.lower()]
            if exact or loose:
                return (exact or loose)[0], candidate
        available = candidates[0].labels if candidates else []
        raise NoSuchButtonError(f"{self.name} sees no button {label!r}; newest: {available}")

    # -- acting ------------------------------------------------------------------------------
    async def send(
        self, text: str, *, key: str | None = None, topic: tuple[int, int | None] | None = None
    ) -> Outcome:
        """Write to the bot; `topic` (group chat, thread) writes in a group's forum topic."""
        chat, thread = topic or (self.chat_id, None)
        return await self.channel.text(self.author, chat, text, key, thread)

    async def send_photo(
        self,
        *,
        caption: str | None = None,
        size: int = 120_000,
        topic: tuple[int, int | None] | None = None,
    ) -> Outcome:
        chat, thread = topic or (self.chat_id, None)
        return await self.channel.photo(self.author, chat, caption, size, thread)

    async def send_unsupported(self, what: str) -> Outcome:
        return await self.channel.unsupported(self.author, self.chat_id, what)

    async def click(
        self, label: str, *, message: Delivered | None = None, key: str | None = None
    ) -> Outcome:
        payload, found_on = self._find(label, message)
        return await self.press(payload, message=found_on, key=key)

    async def tap(self, macro: str, /, **variables: object) -> Outcome:
        """Press the button labelled by `macro` of labels.j2, in this person's language."""
        return await self.click(self.label(macro, **variables))

    async def press(
        self, payload: str, *, message: Delivered | None = None, key: str | None = None
    ) -> Outcome:
        """Press a button by its raw payload (what a tampering client could send)."""
        chat = message.chat_id if message is not None else self.chat_id
        outcome = await self.channel.press(self.author, chat, payload, message, key)
        if outcome.callback_answer:
            self.answers.append(outcome.callback_answer)
        return outcome
