"""Routes an event to a handler: a pressed button by its payload's prefix, a command by name,
text and photos by what the chat is waiting for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from bot.engine.errors import Stale
from bot.engine.events import Outgoing
from bot.engine.payloads import Payload

if TYPE_CHECKING:
    from bot.engine.context import Context

P = TypeVar("P", bound=Payload)
MEGABYTE = 1024 * 1024
Handler = Callable[["Context"], Awaitable[None]]
Interceptor = Callable[["Context"], Awaitable[bool]]
PayloadHandler = Callable[["Context", Any], Awaitable[None]]
CommandHandler = Callable[["Context", str], Awaitable[None]]


class Router:
    """A registry of handlers. Several routers (buyer, seller, support) merge into one."""

    def __init__(self) -> None:
        self.payloads: dict[str, tuple[type[Payload], PayloadHandler]] = {}
        self.commands: dict[str, CommandHandler] = {}
        self.texts: dict[str, Handler] = {}
        self.photos: dict[str, Handler] = {}
        self.reprompts: dict[str, Handler] = {}
        self.fallback: Handler | None = None
        self.group: Handler | None = None
        self.interceptors: list[Interceptor] = []
        self.understood: Interceptor | None = None
        self.intercepted: set[str] = set()  # states an interceptor reads (see `reads`)

    # -- registration ------------------------------------------------------------------------
    def button(self, payload: type[P]) -> Callable[[PayloadHandler], PayloadHandler]:
        def register(handler: PayloadHandler) -> PayloadHandler:
            prefix = payload.__prefix__
            if prefix in self.payloads:
                raise ValueError(f"payload prefix {prefix!r} registered twice")
            self.payloads[prefix] = (payload, handler)
            return handler

        return register

    def command(self, *names: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name] = handler
            return handler

        return register

    def text(self, state: StrEnum) -> Callable[[Handler], Handler]:
        """Handles free text while the chat waits in `state` (a member of the handlers' enum of
        chat states, handlers/workflow/awaiting.py, as `Context.expect` sets it)."""

        def register(handler: Handler) -> Handler:
            self.texts[state] = handler
            return handler

        return register

    def photo(self, state: StrEnum) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.photos[state] = handler
            return handler

        return register

    def reprompt(self, state: StrEnum) -> Callable[[Handler], Handler]:
        """Asks the question of `state` again, when the person typed where a button was due."""

        def register(handler: Handler) -> Handler:
            self.reprompts[state] = handler
            return handler

        return register

    def otherwise(self, handler: Handler) -> Handler:
        self.fallback = handler
        return handler

    def in_groups(self, handler: Handler) -> Handler:
        """Handles what is not a command or a button in group chats (the support desk)."""
        self.group = handler
        return handler

    def intercept(self, handler: Interceptor) -> Interceptor:
        """Sees a private chat's text and photos before anything else; True means handled
        (a buyer asking for a person, a case a person has taken over)."""
        self.interceptors.append(handler)
        return handler

    def free_text(self, handler: Interceptor) -> Interceptor:
        """Sees text typed where no text handler waits (a button question, or no question at
        all) before the question is asked again or the fallback answers; True means handled
        (what the buyer wrote was understood: docs/understanding.md)."""
        self.understood = handler
        return handler

    def intercepts(self, *states: StrEnum) -> None:
        """Declares states that an interceptor reads rather than a text or photo handler, so
        that the start-up check (`reads`) counts them as read."""
        self.intercepted.update(states)

    def reads(self, state: str) -> bool:
        """Whether something answers a chat waiting in `state`."""
        return any(
            state in registered
            for registered in (self.texts, self.photos, self.reprompts, self.intercepted)
        )

    def include(self, other: Router) -> None:
        for prefix, entry in other.payloads.items():
            if prefix in self.payloads:
                raise ValueError(f"payload prefix {prefix!r} registered twice")
            self.payloads[prefix] = entry
        self.commands.update(other.commands)
        self.texts.update(other.texts)
        self.photos.update(other.photos)
        self.reprompts.update(other.reprompts)
        self.fallback = other.fallback or self.fallback
        self.group = other.group or self.group
        self.interceptors.extend(other.interceptors)
        self.understood = other.understood or self.understood
        self.intercepted.update(other.intercepted)

    # -- dispatch ----------------------------------------------------------------------------
    async def dispatch(self, ctx: Context) -> None:
        event = ctx.event
        if event.payload is not None:
            await self._dispatch_payload(ctx, event.payload)
            return
        command = event.command
        if command is not None and command[0] in self.commands:
            await self.commands[command[0]](ctx, command[1])
            return
        if not event.is_private:
            if self.group is not None:
                await self.group(ctx)
            return
        if command is None:
            for interceptor in self.interceptors:
                if await interceptor(ctx):
                    return
        state = ctx.conversation.awaiting
        if event.photos or event.unsupported:
            handler = self.photos.get(state or "") if event.photos else None
            if handler is not None:
                await handler(ctx)
                return
            ctx.reply(
                "common/unsupported",
                what=event.unsupported or "photo",
                megabytes=_megabytes(event.size_limit),
            )
            await self._reprompt(ctx, state)
            return
        if state in self.texts and command is None:
            await self.texts[state](ctx)
            return
        if command is None and await self._typed_at_a_question(ctx, state):
            return
        if self.fallback is not None:
            await self.fallback(ctx)

    async def _dispatch_payload(self, ctx: Context, payload: str) -> None:
        prefix = payload.split(":", 1)[0]
        entry = self.payloads.get(prefix)
        if entry is None:
            raise Stale()
        model, handler = entry
        try:
            data = model.unpack(payload)
        except (ValueError, TypeError) as exc:
            raise Stale() from exc
        await handler(ctx, data)

    async def _typed_at_a_question(self, ctx: Context, state: str | None) -> bool:
        """Words where no text handler waits: understood if they can be, else the question
        again (with the hint about buttons)."""
        if self.understood is not None and await self.understood(ctx):
            return True
        return await self._reprompt(ctx, state, hint=True)

    async def _reprompt(self, ctx: Context, state: str | None, *, hint: bool = False) -> bool:
        handler = self.reprompts.get(state or "")
        if handler is None:
            return False
        asked = len(ctx.replies)
        await handler(ctx)
        if hint and _has_buttons(ctx, ctx.replies[asked:]):
            # "Please choose one of the buttons" goes above the question, and only when the
            # question came with buttons: a step may have moved on to one that asks none (a
            # case now with the seller), and the hint would point at nothing.
            ctx.reply("common/use_buttons")
            ctx.replies.insert(asked, ctx.replies.pop())
        return True


def _has_buttons(ctx: Context, replies: Sequence[Outgoing]) -> bool:
    return any(r.buttons for r in replies if r.chat_id == ctx.event.chat_id)


def _megabytes(size: int | None) -> Decimal | None:
    """A size limit as people say it: 10 MB, 9.5 MB."""
    if size is None:
        return None
    return (Decimal(size) / MEGABYTE).quantize(Decimal("0.1")).normalize()
