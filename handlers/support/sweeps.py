"""What the sweeper does with a promise: remind its owner at the warning point; at the due
time, escalate (a seller's promise) or renew it (support's own), and tell the buyer honestly.

The sweeper sends these as events of its own through the engine, one per promise and action,
so each is applied once even with several sweepers running, and in the buyer chat's order."""

from __future__ import annotations

from bot.domain.enums import CommitmentKind, CommitmentState, EscalationReason, Role
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.own_events import Breach, Remind
from bot.engine.router import Router
from bot.services import cases, commitments
from bot.storage.models import Case, Commitment
from handlers.workflow import cards, desk, promises

router = Router()


async def _locked(ctx: Context, commitment_id: int) -> tuple[Case, Commitment] | None:
    """The promise, still open, with its case locked first (the order every update locks in)."""
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="sweeper.forged")
    case_id = await commitments.case_id_of(ctx.tx, commitment_id)
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    if case is None:
        return None
    commitment = await commitments.lock_commitment(ctx.tx, commitment_id)
    if commitment is None or commitment.state is not CommitmentState.OPEN:
        return None
    if not case.state.is_open and commitment.kind not in commitments.OWED:
        # The case ended another way: its next step is not owed any more. What was agreed
        # still is, however the case ended.
        commitments.set_aside(commitment, ctx.now)
        return None
    return case, commitment


@router.button(Remind)
async def remind(ctx: Context, data: Remind) -> None:
    found = await _locked(ctx, data.commitment_id)
    if found is None:
        return
    case, commitment = found
    if not commitments.reminded(commitment, ctx.now):
        return
    if commitment.due_at <= ctx.now:
        await _breach(ctx, case, commitment)  # it fell due while nobody was sweeping
        return
    if commitment.owner_role is Role.SUPPORT:
        await desk.show_topic(ctx, case, desk.DUE_SOON)
        desk.to_desk(ctx, case, "support/reminder", case=case, commitment=commitment)
        return
    ctx.to_deciders(
        case.seller_id,
        "seller/reminder",
        case=case,
        order=case.order,
        commitment=commitment,
        case_id=case.id,
    )
    card = await cards.current_card(ctx.tx, case)
    if card is not None:
        cards.show(ctx, case, card)


@router.button(Breach)
async def breach(ctx: Context, data: Breach) -> None:
    found = await _locked(ctx, data.commitment_id)
    if found is not None:
        await _breach(ctx, *found)


async def _breach(ctx: Context, case: Case, commitment: Commitment) -> None:
    commitments.breached(commitment, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "promise_breached",
        role=Role.SYSTEM,
        actor_id=None,
        kind=commitment.kind.value,
    )
    if commitment.kind in commitments.OWED:
        # Late is not cancelled: the refund or shipment is still owed, under a new promise the
        # sweeper keeps watching, while support chases it (docs/offers-and-promises.md).
        await promises.promise(ctx, case, commitment.kind, replaces=commitment)
    if commitment.owner_role is not Role.SUPPORT:
        await desk.escalate(ctx, case, EscalationReason.BREACH, role=Role.SYSTEM)
        return
    # Support's own promise was missed: say so to the buyer, promise again, flag the topic.
    due = await promises.promise(
        ctx, case, CommitmentKind.SUPPORT_REPLY, owner=Role.SUPPORT, replaces=commitment
    )
    await desk.show_topic(ctx, case, desk.BREACHED)
    desk.to_desk(ctx, case, "support/breached", case=case, due=due)
    ctx.to_buyer(case.buyer, "buyer/support_late", case=case, due=due, case_id=case.id)
