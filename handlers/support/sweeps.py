"""What the sweeper does with a promise: remind its owner at the warning point; at the due
time, escalate (a seller's promise) or renew it (support's own), and tell the buyer honestly.

The sweeper sends these as events of its own through the engine, one per promise and action,
so each is applied once even with several sweepers running, and in the buyer chat's order."""

from __future__ import annotations

from bot.domain.enums import EscalationReason, PromiseKind, PromiseState, Role
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.own_events import Breach, Remind
from bot.engine.router import Router
from bot.services import cases, promises
from bot.storage.models import Case, Promise
from handlers.workflow import cards, desk, promising

router = Router()


async def _locked(ctx: Context, promise_id: int) -> tuple[Case, Promise] | None:
    """The promise, still open, with its case locked first (the order every update locks in)."""
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="sweeper.forged")
    case_id = await promises.case_id_of(ctx.tx, promise_id)
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    if case is None:
        return None
    promise = await promises.lock_promise(ctx.tx, promise_id)
    if promise is None or promise.state is not PromiseState.OPEN:
        return None
    if not case.state.is_open and promise.kind not in promises.AFTER_THE_END:
        # The case ended another way: its next step is not owed any more. What was agreed
        # still is, however the case ended, and so is the answer to a low rating.
        promises.set_aside(promise, ctx.now)
        return None
    return case, promise


@router.button(Remind)
async def remind(ctx: Context, data: Remind) -> None:
    found = await _locked(ctx, data.promise_id)
    if found is None:
        return
    case, promise = found
    if not promises.reminded(promise, ctx.now):
        return
    if promise.due_at <= ctx.now:
        await _breach(ctx, case, promise)  # it fell due while nobody was sweeping
        return
    if promise.owner_role is Role.SUPPORT:
        await desk.show_topic(ctx, case, desk.DUE_SOON)
        desk.to_desk(ctx, case, "support/reminder", case=case, promise=promise)
        return
    ctx.to_deciders(
        case.seller_id,
        "seller/reminder",
        case=case,
        order=case.order,
        promise=promise,
        case_id=case.id,
    )
    card = await cards.current_card(ctx.tx, case)
    if card is not None:
        cards.show(ctx, case, card)


@router.button(Breach)
async def breach(ctx: Context, data: Breach) -> None:
    found = await _locked(ctx, data.promise_id)
    if found is not None:
        await _breach(ctx, *found)


async def _breach(ctx: Context, case: Case, promise: Promise) -> None:
    promises.breached(promise, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "promise_breached",
        role=Role.SYSTEM,
        actor_id=None,
        kind=promise.kind.value,
    )
    if promise.kind in promises.OWED:
        # Late is not cancelled: the refund or shipment is still owed, under a new promise the
        # sweeper keeps watching, while support chases it (docs/offers-and-promises.md).
        await promising.promise(ctx, case, promise.kind, replaces=promise)
    if promise.owner_role is not Role.SUPPORT:
        await desk.escalate(ctx, case, EscalationReason.BREACH, role=Role.SYSTEM)
        return
    # Support's own promise was missed: say so to the buyer, promise again, flag the topic.
    due = await promising.promise(
        ctx, case, PromiseKind.SUPPORT_REPLY, owner=Role.SUPPORT, replaces=promise
    )
    await desk.show_topic(ctx, case, desk.BREACHED)
    desk.to_desk(ctx, case, "support/breached", case=case, due=due)
    ctx.to_buyer(case.buyer, "buyer/support_late", case=case, due=due, case_id=case.id)
