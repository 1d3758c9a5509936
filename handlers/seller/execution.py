"""The seller did what was agreed: the refund went out, or the item or coupon was sent.

What was agreed stays owed whatever happened to the conversation since (docs/offers-and-
promises.md): the button works while the case is with support, after support resolved or handed
it back, or after the buyer withdrew a later request. Only a case that was waiting for this is
resolved by it; one with support stays with support, which is told."""

from __future__ import annotations

from bot.domain.enums import (
    CaseState,
    ItemSettlement,
    PromiseKind,
    RefundStatus,
    Remedy,
    Role,
)
from bot.engine.context import Context, button, column
from bot.engine.router import Router
from bot.services import cases, deliveries, ledger, offers, promises
from handlers.payloads import Done, RefundFailed, SettleItem
from handlers.workflow import aftersales, desk
from handlers.workflow.access import decider_case, decider_name
from handlers.workflow.awaiting import Awaiting

router = Router()
SHIPPED = (Remedy.RESHIP, Remedy.REPLACEMENT)  # what goes out as a parcel with a number


@router.button(Done)
async def done(ctx: Context, data: Done) -> None:
    case = await decider_case(ctx, data.case_id)
    owed = await promises.owed(ctx.tx, case.id)
    refunds = await ledger.refunds_of_case(ctx.tx, case.id)
    executed = [r for r in refunds if r.status is RefundStatus.APPROVED]
    if not owed and not executed and case.state is not CaseState.EXECUTING:
        ctx.answer("seller/already_done", case=case)
        return
    amount = ledger.approved_total(executed)  # told before they are marked sent
    for refund in executed:
        ledger.mark_executed(refund, ctx.now)
    await promises.keep(
        ctx.tx, case.id, ctx.now, PromiseKind.REFUND_EXECUTION, PromiseKind.FULFILMENT
    )
    waiting = case.state is CaseState.EXECUTING
    offer = await offers.current(ctx.tx, case.id)
    remedy = offer.remedy if offer else None
    parcel = remedy in SHIPPED and not amount
    # A parcel is followed until it arrives (docs/offers-and-promises.md#reshipments): the
    # promise is kept now, the case ends when the buyer says it arrived or the policy's delay
    # passes.
    after = CaseState.AWAITING_DELIVERY if parcel else CaseState.RESOLVED
    cases.move(case, after if waiting else None, ctx.now)
    if case.state is CaseState.AWAITING_DELIVERY:
        policy = ctx.seller(case.seller_id).policy
        deliveries.wait(case, ctx.now, policy.aftersales.delivered_after)
    aftersales.resolved(ctx, case)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "executed",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/done",
        case=case,
        remedy=remedy,
        amount=amount,
        case_id=case.id,
        buttons=(
            aftersales.still_not_right(case)
            if case.state is CaseState.RESOLVED
            else aftersales.on_its_way(case)
        ),
    )
    with_support = case.state is CaseState.ESCALATED
    if with_support:
        desk.to_desk(
            ctx,
            case,
            "support/seller_done",
            case=case,
            by=decider_name(ctx),
            seller=ctx.seller(case.seller_id),
            remedy=remedy,
            amount=amount,
        )
    outcome = (
        "resolved"
        if case.state is CaseState.RESOLVED
        else "delivery"
        if case.state is CaseState.AWAITING_DELIVERY
        else "with_support"
        if with_support
        else "open"
    )
    # Should the money not go through, the seller says so here (handlers/seller/failed_refunds.py).
    failable = [
        button("refund_failed", RefundFailed(case_id=case.id, refund_id=r.id), amount=r.amount)
        for r in executed
    ]
    if remedy is Remedy.REPLACEMENT and case.item_settlement is None:
        # The buyer holds the item the replacement replaces: the seller settles it explicitly
        # (handlers/seller/reshipment.py).
        failable += [
            button(f"settle_{c}", SettleItem(case_id=case.id, choice=c)) for c in ItemSettlement
        ]
    ctx.reply(
        "seller/done_recorded",
        case=case,
        remedy=remedy,
        amount=amount,
        outcome=outcome,
        buttons=column(*failable),
    )
    if parcel:
        # The buyer follows the parcel by its number (handlers/seller/reshipment.py).
        ctx.expect(Awaiting.SELLER_TRACKING, case_id=case.id)
        ctx.reply("seller/ask_reship_tracking", case=case)
