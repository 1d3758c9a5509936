"""The buyer's answers while describing a case: reason, item, quantity, what they want, the
amount, photos. Each stores one fact and lets the wizard ask the next question."""

from __future__ import annotations

from bot.domain.enums import CaseState, OfferStatus, Role
from bot.domain.money import AmountError, parse_amount
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, offers, promises
from handlers.payloads import (
    ChangeReason,
    PhotosDone,
    PickCondition,
    PickItem,
    PickQuantity,
    PickReason,
    PickWant,
    Withdraw,
)
from handlers.workflow import agreement, deductions
from handlers.workflow.access import case_at, owned_case
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.menu import show_menu
from handlers.workflow.wizard import (
    BUYER,
    MAX_QUESTION,
    add_to_question,
    advance,
    ask_reason_again,
    choose_reason,
    claim_limit,
    reasons_for,
    resume,
    send_question,
)

router = Router()
# What was agreed is under way (a shipped parcel too) or support has it: too late to withdraw.
DONE_OR_WITH_SUPPORT = (CaseState.EXECUTING, CaseState.AWAITING_DELIVERY, CaseState.ESCALATED)
MAX_REASON_NOTE = 500
MAX_PHOTOS = 10


@router.button(PickReason)
async def reason(ctx: Context, data: PickReason) -> None:
    case = await case_at(ctx, data.case_id, CaseState.REASON)
    if data.reason not in reasons_for(ctx, case):
        raise Stale()
    await choose_reason(ctx, case, data.reason)


@router.button(ChangeReason)
async def change_reason(ctx: Context, data: ChangeReason) -> None:
    case = await case_at(ctx, data.case_id, *cases.DRAFT_STATES)
    await ask_reason_again(ctx, case)


@router.text(Awaiting.CASE_CANCEL_WHY)
async def cancel_why(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.REASON)
    why = (ctx.event.text or "").strip()
    if not why:
        ctx.reply("buyer/ask_cancel_why", case=case)
        return
    if len(why) > MAX_REASON_NOTE:
        ctx.reply("common/too_long", length=len(why), max_length=MAX_REASON_NOTE)
        return
    buyer_id = ctx.event.author.id
    await cases.record(
        ctx.tx, case, ctx.now, "reason_note", role=BUYER, actor_id=buyer_id, note=why
    )
    await advance(ctx, case)


@router.button(PickItem)
async def item(ctx: Context, data: PickItem) -> None:
    case = await case_at(ctx, data.case_id, CaseState.ITEM)
    if case.order.item(data.item_id) is None:
        raise Stale()
    case.item_id = data.item_id
    await advance(ctx, case)


@router.button(PickQuantity)
async def quantity(ctx: Context, data: PickQuantity) -> None:
    case = await case_at(ctx, data.case_id, CaseState.QUANTITY)
    chosen = case.item
    if chosen is None or not 1 <= data.quantity <= chosen.quantity:
        raise Stale()
    case.quantity = data.quantity
    await advance(ctx, case)


@router.button(PickWant)
async def want(ctx: Context, data: PickWant) -> None:
    case = await case_at(ctx, data.case_id, CaseState.WANT)
    case.want = data.want
    await cases.record(
        ctx.tx, case, ctx.now, "want", role=BUYER, actor_id=ctx.event.author.id, want=data.want
    )
    await advance(ctx, case)


@router.button(PickCondition)
async def condition(ctx: Context, data: PickCondition) -> None:
    case = await case_at(ctx, data.case_id, CaseState.CONDITION)
    case.condition = data.condition
    await advance(ctx, case)


@router.text(Awaiting.CASE_QUESTION)
async def question(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.QUESTION)
    text = (ctx.event.text or "").strip()
    if len(text) > MAX_QUESTION:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_QUESTION)
        return
    await send_question(ctx, case, text)


@router.text(Awaiting.CASE_CLAIMED)
async def claimed(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.WANT)
    limit = claim_limit(case)
    try:
        amount = parse_amount(ctx.event.text or "", case.order.currency, maximum=limit)
    except AmountError as error:
        ctx.reply("common/amount_error", code=error.code, limit=limit)
        return
    case.claimed_minor = amount.minor
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "claimed",
        role=BUYER,
        actor_id=ctx.event.author.id,
        amount=amount,
    )
    await advance(ctx, case)


@router.photo(Awaiting.CASE_PHOTOS)
async def photo(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.EVIDENCE)
    stored = await cases.evidence_of(ctx.tx, case.id)
    known = {e.file_unique_id for e in stored}
    for sent in ctx.event.photos:
        if sent.file_unique_id in known or len(known) >= MAX_PHOTOS:
            continue
        known.add(sent.file_unique_id)
        await cases.add_evidence(ctx.tx, case.id, sent, ctx.event.caption, ctx.now)
    await advance(ctx, case)


@router.reprompt(Awaiting.CASE_PHOTOS)
@router.text(Awaiting.CASE_PHOTOS)
async def photos_expected(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.EVIDENCE)
    await advance(ctx, case)


@router.button(PhotosDone)
async def photos_done(ctx: Context, data: PhotosDone) -> None:
    case = await case_at(ctx, data.case_id, CaseState.EVIDENCE)
    if not await cases.evidence_of(ctx.tx, case.id):
        await advance(ctx, case)  # asks for a photo again
        return
    case.evidence_done = True
    await cases.record(ctx.tx, case, ctx.now, "evidence", role=BUYER, actor_id=ctx.event.author.id)
    ctx.expect(Awaiting.CASE, case_id=case.id)
    await advance(ctx, case)


@router.reprompt(Awaiting.CASE)
async def where_we_are(ctx: Context) -> None:
    case_id = ctx.conversation.case_id
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    text = (ctx.event.text or "").strip()
    if text and await deductions.offer_dispute(ctx):
        return
    if case is None or case.buyer_id != ctx.event.author.id or not case.state.is_open:
        show_menu(ctx, "buyer/not_understood")
        return
    if text and case.state is CaseState.AWAITING_SELLER and case.question is not None:
        await add_to_question(ctx, case, text)
        return
    await resume(ctx, case)


@router.button(Withdraw)
async def withdraw(ctx: Context, data: Withdraw) -> None:
    case = await owned_case(ctx, data.case_id)
    if not case.state.is_open or case.state in DONE_OR_WITH_SUPPORT:
        raise Stale("buyer/cannot_withdraw", case=case)
    was_with_seller = case.state is CaseState.AWAITING_SELLER
    offer = await offers.current(ctx.tx, case.id)
    if offer is not None and offer.status in (OfferStatus.PENDING_SELLER, OfferStatus.OFFERED):
        await offers.decide(
            ctx.tx,
            offer,
            expected=offer.status,
            status=OfferStatus.WITHDRAWN,
            action="withdrawn",
            role=Role.BUYER,
            actor_id=ctx.event.author.id,
            actor_name=ctx.actor.buyer.name,
            now=ctx.now,
        )
    await promises.end_conversation(ctx.tx, case.id, ctx.now)
    # Withdrawing a later request does not undo what was agreed before it.
    owed = await agreement.still_owed(ctx, case)
    if was_with_seller:
        ctx.to_deciders(
            case.seller_id, "seller/withdrawn", case=case, order=case.order, case_id=case.id
        )
    cases.move(case, agreement.end_state(owed, CaseState.CLOSED), ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "withdrawn",
        role=Role.BUYER,
        actor_id=ctx.event.author.id,
    )
    show_menu(ctx, "buyer/withdrawn", **agreement.owed_variables(owed))
