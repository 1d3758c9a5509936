"""A deduction at a return's inspection is the seller's word, not something the buyer agreed
to: the buyer is told what was deducted and why, with the seller's photos, and may dispute it,
which hands the case to support with its history (docs/conversations.md). The seller's
inspection tells it; the buyer's words after it offer the dispute."""

from __future__ import annotations

from datetime import datetime

from bot.domain.enums import CaseKind, CaseState
from bot.domain.money import Money
from bot.engine.context import Context, Keyboard, button, column
from bot.services import cases
from bot.storage.models import Case, CaseEvent
from handlers.payloads import DisputeDeduction

DISPUTED = "deduction_disputed"  # the case event of the buyer's dispute


def tell(
    ctx: Context,
    case: Case,
    *,
    deduction: Money,
    note: str | None,
    amount: Money | None,
    due: datetime | None,
    photos: list[str],
) -> None:
    """The inspection's outcome as the buyer reads it: what was deducted and why, the seller's
    photos of it, what is refunded and by when, and the button to dispute it."""
    ctx.to_buyer(
        case.buyer,
        "buyer/deduction",
        case=case,
        deduction=deduction,
        note=note,
        amount=amount,
        due=due,
        photos=photos,
        with_photos=bool(photos),
        buttons=_dispute_button(case),
        case_id=case.id,
    )


def _dispute_button(case: Case) -> Keyboard:
    return column(button("dispute_deduction", DisputeDeduction(case_id=case.id)))


async def disputable(ctx: Context, case: Case) -> CaseEvent | None:
    """The inspection with a deduction the buyer may still dispute on the case, if any: after
    the inspection (the refund owed or sent, or nothing left to refund), once."""
    if case.kind is not CaseKind.RETURN or case.state not in (
        CaseState.EXECUTING,
        CaseState.RESOLVED,
    ):
        return None
    history = await cases.history_of(ctx.tx, case.id)
    if any(event.action == DISPUTED for event in history):
        return None
    inspected = [e for e in history if e.action == "inspected" and e.detail.get("deduction")]
    return inspected[-1] if inspected else None


async def offer_dispute(ctx: Context) -> bool:
    """Words typed after a deduction ("the deduction is unfair") on the buyer's latest case: the
    way to dispute it, with its button. False when there is no such deduction."""
    case_id = await cases.latest_case_id_of_buyer(ctx.tx, ctx.event.author.id)
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    if case is None or await disputable(ctx, case) is None:
        return False
    ctx.expect(None)
    ctx.reply("buyer/dispute_offered", case=case, buttons=_dispute_button(case))
    return True
