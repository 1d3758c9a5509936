"""One incoming update = one transaction (docs/design.md#one-transaction-per-update).

Lock the chat's conversation row, claim the update's key (a replay finds it taken and stops),
run the handler, write the replies to the outbox, commit. Nothing is sent from here: the sender
delivers the outbox after the commit, so a crash at any point loses nothing and a replay sends
nothing twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.clock import Clock
from bot.config.shop import ShopConfig
from bot.domain.claims import ClaimKeys
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.events import Incoming, Outcome, Outgoing
from bot.engine.identity import identify
from bot.engine.router import Router
from bot.rendering import Renderer
from bot.storage import audit
from bot.storage.database import Database, unit_of_work
from bot.storage.stores import chat_state, outbox
from bot.storage.transaction import Transaction
from bot.telemetry import log_context
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)
# What PostgreSQL says when it rolled a transaction back for meeting another (SQLSTATE), and
# how often an update is tried in all before it is recorded as failed.
CONFLICTS = {"40P01": "a deadlock", "40001": "a serialization failure"}
CONFLICT_TRIES = 5
CONFLICT_PAUSE = 0.02  # seconds; the most a try waits grows with each


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        renderer: Renderer,
        shop: ShopConfig,
        router: Router,
        claim_keys: ClaimKeys | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        # The process's counters (bot/telemetry/metrics.py); the sender and sweeper share it.
        self.metrics = metrics or Metrics()
        # RETURNDESK_LINK_SECRET's keys; None: orders without a buyer cannot be claimed.
        self.claim_keys = claim_keys
        self.clock = clock
        self.renderer = renderer
        self.shop = shop
        self.router = router
        # Called after a commit that wrote replies, to wake the sender.
        self.listeners: list[Callable[[], None]] = []

    @unit_of_work
    async def process(self, event: Incoming) -> Outcome:
        started = time.perf_counter()
        with log_context.about(chat=event.chat_id):
            outcome, result = await self._processed(event)
        self.metrics.update(result, system=event.system, seconds=time.perf_counter() - started)
        if outcome.replies:
            for listener in self.listeners:
                listener()
        return outcome

    async def _processed(self, event: Incoming) -> tuple[Outcome, str]:
        """The update's outcome, and what became of it, as /metrics counts it."""
        try:
            outcome = await self._reconnecting(event)
        except _Refused as refused:
            # The handler's changes were rolled back with its transaction; the refusal is
            # recorded in a transaction of its own.
            outcome = await self._apply(event, refused=refused)
            return outcome, "duplicate" if outcome.duplicate else "refused"
        except Exception:
            log.exception(
                "update %s failed; recording it so a replay does not fail again", event.key
            )
            outcome = await self._apply(event, failed=True)
            return outcome, "duplicate" if outcome.duplicate else "failed"
        return outcome, "duplicate" if outcome.duplicate else "applied"

    async def _reconnecting(self, event: Incoming) -> Outcome:
        """The update applied, tried again from the start on a new transaction when the
        database, rather than the update, made it fail: a dead connection (once), a deadlock or
        a serialization failure (up to CONFLICT_TRIES in all). A try that failed was rolled
        back whole, its claim of the update's key with it, so the next try records it once.

        Every update takes its locks in one order (docs/locking.md), so deadlocks should not
        happen; this is what keeps an update that still meets one from being lost."""
        reconnected = False
        for attempt in itertools.count(1):
            try:
                return await self._apply(event)
            except DBAPIError as error:
                if error.connection_invalidated and not reconnected:
                    # The connection had died (the database restarted since it was last used).
                    # The pool has let go of every connection as old as it, so the next try
                    # runs on a new one.
                    reconnected = True
                    log.warning(
                        "update %s met a dead database connection; trying it again", event.key
                    )
                    continue
                code = getattr(error.orig, "sqlstate", None)
                if code not in CONFLICTS or attempt >= CONFLICT_TRIES:
                    raise
                log.warning(
                    "update %s met %s (try %s of %s); trying it again",
                    event.key,
                    CONFLICTS[code],
                    attempt,
                    CONFLICT_TRIES,
                )
                # A little apart, at random: two updates that met at once do not meet again.
                await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE * attempt))  # noqa: S311
        raise AssertionError("unreachable")

    async def _apply(
        self, event: Incoming, *, refused: _Refused | None = None, failed: bool = False
    ) -> Outcome:
        async with self.db.transaction() as session:
            tx = Transaction.of(session)  # what the update holds, keeps and locks till it ends
            now = self.clock.now()
            locked = await chat_state.lock(
                tx, event.chat_id, now, event.author.id, _claim(event, now)
            )
            if locked is None:
                return Outcome(duplicate=True)
            conversation, profile = locked
            actor = await identify(session, self.shop, event.author, profile, system=event.system)
            ctx = Context(
                event=event,
                tx=tx,
                now=now,
                renderer=self.renderer,
                shop=self.shop,
                conversation=conversation,
                actor=actor,
                claim_keys=self.claim_keys,
            )
            if failed:
                ctx.reply("common/failure")
            elif refused is not None:
                _refuse(ctx, refused)
            else:
                try:
                    await self.router.dispatch(ctx)
                except Refusal as refusal:
                    raise _Refused.rendered(ctx, refusal) from refusal
            tx.write_changes()
            chat_state.save(tx, conversation, now)
            if ctx.replies:
                outbox.hold(tx, [_outbox_row(reply, ctx) for reply in ctx.replies])
            return Outcome(replies=ctx.replies, callback_answer=ctx.callback_answer, failed=failed)


class _Refused(Exception):  # noqa: N818 - carries a Refusal out of its rolled-back transaction
    """A refusal as the person will read it, rendered before the handler's transaction rolls
    back: its variables may name rows of that transaction (a case, an offer), which the rollback
    expires and the session's end detaches, so rendering it in the next transaction would fail
    on whatever the template reads. Only text and plain values cross the rollback."""

    def __init__(
        self,
        template: str,
        *,
        replies: list[Outgoing],
        callback_answer: str | None,
        audit: str | None,
        detail: dict[str, Any],
    ) -> None:
        super().__init__(template)
        self.replies = replies
        self.callback_answer = callback_answer
        self.audit = audit
        self.detail = detail

    @classmethod
    def rendered(cls, ctx: Context, refusal: Refusal) -> _Refused:
        # What the handler had answered goes with its rollback; the refusal is the answer.
        ctx.replies = []
        ctx.callback_answer = None
        if ctx.event.callback_id:
            ctx.answer(refusal.template, **refusal.variables)
        else:
            ctx.reply(refusal.template, **refusal.variables)
        return cls(
            refusal.template,
            replies=ctx.replies,
            callback_answer=ctx.callback_answer,
            audit=refusal.audit,
            detail={k: v for k, v in refusal.variables.items() if isinstance(v, str | int)},
        )


def _refuse(ctx: Context, refused: _Refused) -> None:
    if refused.audit:
        audit.record(
            ctx.tx,
            ctx.now,
            actor_id=ctx.event.author.id,
            action=refused.audit,
            target=ctx.event.payload or (ctx.event.text or "")[:64],
            detail=refused.detail,
        )
    ctx.replies.extend(refused.replies)
    ctx.callback_answer = refused.callback_answer


def _claim(event: Incoming, now: datetime) -> chat_state.Claim:
    """The update's transcript entry: what the person sent, as far as text can tell it."""
    text = event.text if event.text is not None else event.caption
    if event.photos:
        text = f"[photo x{len(event.photos)}] {text or ''}".strip()
    elif event.unsupported:
        text = f"[{event.unsupported}] {text or ''}".strip()
    return chat_state.Claim(
        at=now,
        user_id=event.author.id,
        text=text,
        payload=event.payload[:64] if event.payload else None,
        update_key=event.key,
    )


def _outbox_row(reply: Outgoing, ctx: Context) -> dict[str, Any]:
    return {
        "chat_id": reply.chat_id,
        "thread_id": reply.thread_id,
        "text": reply.text,
        "buttons": [[{"text": b.text, "data": b.payload} for b in row] for row in reply.buttons]
        or None,
        "photos": list(reply.photos) or None,
        "files": [upload.to_json() for upload in reply.uploads] or None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": ctx.now,
        "created_at": ctx.now,
        "case_id": reply.case_id,
        "template": reply.template,
        "caused_by": ctx.event.key,
        "topic_of": reply.topic_of,
        "action": reply.action,
    }
