"""One incoming update = one transaction (DESIGN decision 2).

Lock the chat's conversation row, claim the update's key (a replay finds it taken and stops),
run the handler, write the replies to the outbox, commit. Nothing is sent from here: the sender
delivers the outbox after the commit, so a crash at any point loses nothing and a replay sends
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config.shop import ShopConfig
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.events import Incoming, Outcome, Outgoing
from bot.engine.router import Router
from bot.rendering import Renderer
from bot.services import audit
from bot.services.parties import identify
from bot.storage.database import Database
from bot.storage.models import Conversation, OutboxMessage, ProcessedUpdate, TranscriptEntry
from bot.storage.upsert import insert_ignore

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        renderer: Renderer,
        shop: ShopConfig,
        router: Router,
    ) -> None:
        self.db = db
        self.clock = clock
        self.renderer = renderer
        self.shop = shop
        self.router = router
        # Called after a commit that wrote replies, to wake the sender.
        self.listeners: list[Callable[[], None]] = []

    async def process(self, event: Incoming) -> Outcome:
        try:
            outcome = await self._apply(event)
        except Exception:
            log.exception(
                "update %s failed; recording it so a replay does not fail again", event.key
            )
            outcome = await self._apply(event, failed=True)
        if outcome.replies:
            for listener in self.listeners:
                listener()
        return outcome

    async def _apply(self, event: Incoming, *, failed: bool = False) -> Outcome:
        async with self.db.session() as session, session.begin():
            now = self.clock.now()
            conversation = await _lock_conversation(session, event.chat_id, now)
            claimed = await insert_ignore(
                session,
                ProcessedUpdate,
                {"key": event.key, "chat_id": event.chat_id, "processed_at": now},
            )
            if not claimed:
                return Outcome(duplicate=True)
            actor = await identify(session, self.shop, event.sender)
            ctx = Context(
                event=event,
                session=session,
                now=now,
                renderer=self.renderer,
                shop=self.shop,
                conversation=conversation,
                actor=actor,
            )
            _record_incoming(session, ctx)
            if failed:
                ctx.reply("common/failure")
            else:
                await self._run_handler(ctx)
            _write_outbox(session, ctx)
            return Outcome(replies=ctx.replies, callback_answer=ctx.callback_answer, failed=failed)

    async def _run_handler(self, ctx: Context) -> None:
        """Runs the handler in a savepoint, so a refusal undoes whatever it had begun."""
        session = ctx.session
        try:
            async with session.begin_nested():
                await self.router.dispatch(ctx)
        except Refusal as refusal:
            ctx.replies.clear()
            await session.refresh(ctx.conversation)
            if refusal.audit:
                audit.record(
                    session,
                    ctx.now,
                    actor_id=ctx.event.sender.id,
                    action=refusal.audit,
                    target=ctx.event.payload or (ctx.event.text or "")[:64],
                    detail={k: v for k, v in refusal.variables.items() if isinstance(v, str | int)},
                )
            if ctx.event.callback_id:
                ctx.answer(refusal.template, **refusal.variables)
            else:
                ctx.reply(refusal.template, **refusal.variables)


async def _lock_conversation(session: AsyncSession, chat_id: int, now: datetime) -> Conversation:
    await insert_ignore(session, Conversation, {"chat_id": chat_id, "data": {}, "updated_at": now})
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.chat_id == chat_id)
        .with_for_update(of=Conversation)
        .execution_options(populate_existing=True)
    )
    assert conversation is not None
    return conversation


def _record_incoming(session: AsyncSession, ctx: Context) -> None:
    event = ctx.event
    text = event.text if event.text is not None else event.caption
    if event.photos:
        text = f"[photo x{len(event.photos)}] {text or ''}".strip()
    elif event.unsupported:
        text = f"[{event.unsupported}] {text or ''}".strip()
    session.add(
        TranscriptEntry(
            at=ctx.now,
            direction="in",
            chat_id=event.chat_id,
            user_id=event.sender.id,
            case_id=ctx.conversation.case_id,
            text=text,
            payload=event.payload[:64] if event.payload else None,
            update_key=event.key,
        )
    )


def _write_outbox(session: AsyncSession, ctx: Context) -> None:
    for reply in ctx.replies:
        session.add(_outbox_row(reply, ctx))
        session.add(
            TranscriptEntry(
                at=ctx.now,
                direction="out",
                chat_id=reply.chat_id,
                user_id=None,
                case_id=reply.case_id,
                text=reply.text,
                template=reply.template,
                update_key=ctx.event.key,
            )
        )


def _outbox_row(reply: Outgoing, ctx: Context) -> OutboxMessage:
    return OutboxMessage(
        chat_id=reply.chat_id,
        thread_id=reply.thread_id,
        text=reply.text,
        buttons=[[{"text": b.text, "data": b.payload} for b in row] for row in reply.buttons]
        or None,
        photos=list(reply.photos) or None,
        status="pending",
        attempts=0,
        next_attempt_at=ctx.now,
        created_at=ctx.now,
        case_id=reply.case_id,
    )
