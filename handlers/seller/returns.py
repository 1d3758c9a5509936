"""The returned item arrived: the seller accepts it in full, or with a deduction and a reason."""

from __future__ import annotations

from typing import Any

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.domain.money import AmountError, Money, parse_amount
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.events import Photo
from bot.engine.router import Router
from bot.services import cases, promises
from bot.storage.models import Case
from handlers.payloads import Inspect
from handlers.workflow import aftersales, agreement, deductions
from handlers.workflow.access import decider_case
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_REASON = 1000
MAX_PHOTOS = 10


async def _arrived(ctx: Context, case_id: int) -> Case | None:
    case = await decider_case(ctx, case_id)
    if case.state is CaseState.RETURN_IN_TRANSIT:
        return case
    ctx.expect(None)
    if ctx.event.callback_id:
        ctx.answer("seller/already_inspected", case=case)
    else:
        ctx.reply("seller/already_inspected", case=case)
    return None


def _value(case: Case) -> Money:
    return case.affected_value.min(case.order.refundable)


@router.button(Inspect)
async def inspect(ctx: Context, data: Inspect) -> None:
    case = await _arrived(ctx, data.case_id)
    if case is None:
        return
    match data.verdict:
        case "full":
            await _refund(ctx, case, _value(case), deduction=None, note=None)
        case "deduct":
            ctx.expect(Awaiting.SELLER_DEDUCTION, case_id=case.id)
            ctx.reply("seller/ask_deduction", case=case, limit=_value(case))
        case _:
            raise Stale()


@router.text(Awaiting.SELLER_DEDUCTION)
async def deduction(ctx: Context) -> None:
    case = await _arrived(ctx, ctx.conversation.case_id or 0)
    if case is None:
        return
    value = _value(case)
    try:
        amount = parse_amount(ctx.event.text or "", case.order.currency, maximum=value)
    except AmountError as error:
        ctx.reply("common/amount_error", code=error.code, limit=value)
        return
    ctx.expect(
        Awaiting.SELLER_DEDUCTION_REASON,
        case_id=case.id,
        deduction=str(amount.amount),
        photos=_photos(ctx),
    )
    ctx.reply("seller/ask_deduction_reason", case=case, deduction=amount)


@router.photo(Awaiting.SELLER_DEDUCTION)
@router.photo(Awaiting.SELLER_DEDUCTION_REASON)
async def deduction_photo(ctx: Context) -> None:
    """Photos of what the deduction is for, at either step: kept with the step's answers until
    the inspection is recorded. At the reason step, a caption is the reason."""
    case = await _arrived(ctx, ctx.conversation.case_id or 0)
    if case is None:
        return
    photos = _photos(ctx)
    known = {p["file_unique_id"] for p in photos}
    for sent in ctx.event.photos:
        if sent.file_unique_id not in known and len(photos) < MAX_PHOTOS:
            known.add(sent.file_unique_id)
            photos.append(
                {
                    "file_id": sent.file_id,
                    "file_unique_id": sent.file_unique_id,
                    "size": sent.size,
                    "stored_path": sent.stored_path,
                }
            )
    ctx.conversation.data = {**ctx.conversation.data, "photos": photos}
    if (
        ctx.conversation.awaiting == Awaiting.SELLER_DEDUCTION_REASON
        and (ctx.event.caption or "").strip()
    ):
        await deduction_reason(ctx)
        return
    ctx.reply(
        "seller/deduction_photo_added",
        case=case,
        count=len(photos),
        reason_step=ctx.conversation.awaiting == Awaiting.SELLER_DEDUCTION_REASON,
    )


def _photos(ctx: Context) -> list[dict[str, Any]]:
    return list(ctx.conversation.data.get("photos", []))


@router.text(Awaiting.SELLER_DEDUCTION_REASON)
async def deduction_reason(ctx: Context) -> None:
    case = await _arrived(ctx, ctx.conversation.case_id or 0)
    if case is None:
        return
    why = (ctx.event.text or ctx.event.caption or "").strip()  # a photo's caption says it too
    if not why or len(why) > MAX_REASON:
        ctx.reply("common/too_long", length=len(why), max_length=MAX_REASON)
        return
    deducted = Money.of(ctx.conversation.data["deduction"], case.order.currency)
    value = _value(case)
    if deducted >= value:
        # Nothing is left to refund: the item is kept by the seller, the buyer gets nothing.
        await _refund(ctx, case, None, deduction=deducted, note=why)
    else:
        await _refund(ctx, case, value - deducted, deduction=deducted, note=why)


async def _refund(
    ctx: Context, case: Case, amount: Money | None, *, deduction: Money | None, note: str | None
) -> None:
    photos = await _keep_photos(ctx, case, note) if deduction is not None else []
    await promises.keep(ctx.tx, case.id, ctx.now, PromiseKind.RETURN_INSPECTION)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "inspected",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        deduction=deduction or "",
        note=note or "",
        photos=len(photos),
    )
    ctx.expect(None)
    if deduction is None:
        assert amount is not None
        await agreement.agree(ctx, case, amount=amount, key=f"return:{case.id}", role=Role.SELLER)
        return
    due = None
    if amount is None:
        cases.move(case, CaseState.RESOLVED, ctx.now)
        aftersales.resolved(ctx, case)
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "nothing_refunded",
            role=Role.SELLER,
            actor_id=ctx.event.author.id,
        )
        ctx.reply("seller/inspection_recorded", case=case, amount=None, deduction=deduction)
    else:
        terms = await agreement.agree(
            ctx,
            case,
            amount=amount,
            key=f"return:{case.id}",
            role=Role.SELLER,
            note=note,
            deduction=deduction,
            tell_buyer=False,
        )
        due = terms.due
    # The buyer agreed to no deduction: they are told it as the seller's, with the seller's
    # photos, and may dispute it (docs/conversations.md).
    deductions.tell(
        ctx, case, deduction=deduction, note=note, amount=amount, due=due, photos=photos
    )


async def _keep_photos(ctx: Context, case: Case, note: str | None) -> list[str]:
    """The seller's photos of the deduction, added to the case's photos; their file ids."""
    kept = []
    for stored in _photos(ctx):
        photo = Photo(**stored)
        await cases.add_evidence(ctx.tx, case.id, photo, note, ctx.now)
        kept.append(photo.file_id)
    return kept
