"""Someone who is not a support member, writing in the support group.

They may act on nothing there, and every attempt is audited. But each public refusal is one of
the group's 20 messages a minute (RETURNDESK_SENDER_*), shared with every case's topic: refused
every time, a stranger could hold back what buyers say to support. So the group tells a
stranger once, then stays quiet about them for QUIET_FOR. When they were last told is read
from the audit log: the database is the only memory, and a restart forgets nothing.

A tapped button is still answered every time: its pop-up costs the group nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps

from bot.engine.context import Context
from bot.engine.router import CommandHandler, Handler, Router
from bot.storage import audit

QUIET_FOR = timedelta(hours=1)
TOLD = "support.not_member"  # refused, and told so in the group
QUIET = "support.not_member.quiet"  # refused without a word: told less than QUIET_FOR ago


def guard(router: Router) -> None:
    """Every command, and every message the group handler would act on, from a stranger in the
    support group is turned away before it reaches a handler."""
    router.commands = {name: _command(handler) for name, handler in router.commands.items()}
    if router.group is not None:
        router.group = _message(router.group)


def _stranger_at_the_desk(ctx: Context) -> bool:
    event = ctx.event
    desk = ctx.shop.support.chat_id
    return (
        desk is not None
        and event.chat_id == desk
        and not event.system
        and not ctx.actor.is_support
        # The General topic's chatter is not for the bot: it answers nobody there.
        and (event.command is not None or event.thread_id is not None)
    )


async def turn_away(ctx: Context) -> None:
    """Audit the attempt; tell the stranger unless they were told here within QUIET_FOR."""
    event = ctx.event
    told = await audit.recent(
        ctx.tx, actor_id=event.author.id, action=TOLD, since=ctx.now - QUIET_FOR
    )
    quiet = any(entry.detail.get("chat") == event.chat_id for entry in told)
    audit.record(
        ctx.tx,
        ctx.now,
        actor_id=event.author.id,
        action=QUIET if quiet else TOLD,
        target=(event.text or event.caption or "")[:64],
        detail={"chat": event.chat_id},
    )
    if not quiet:
        ctx.reply("support/stranger", quiet_for=QUIET_FOR)


def _command(handler: CommandHandler) -> CommandHandler:
    @wraps(handler)
    async def guarded(ctx: Context, args: str) -> None:
        await _either(ctx, lambda: handler(ctx, args))

    return guarded


def _message(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(ctx: Context) -> None:
        await _either(ctx, lambda: handler(ctx))

    return guarded


async def _either(ctx: Context, handle: Callable[[], Awaitable[None]]) -> None:
    if _stranger_at_the_desk(ctx):
        await turn_away(ctx)
    else:
        await handle()
