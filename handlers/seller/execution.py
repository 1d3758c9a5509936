"""The seller did what was agreed: the refund went out, or the item or coupon was sent."""

from __future__ import annotations

from bot.domain.enums import CaseState, CommitmentKind, RefundStatus, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases, commitments, ledger, offers
from handlers.payloads import Done
from handlers.seller.common import decider_case

router = Router()


@router.button(Done)
async def done(ctx: Context, data: Done) -> None:
    case = await decider_case(ctx, data.case_id)
    if case.state is not CaseState.EXECUTING:
        ctx.answer("seller/already_done", case=case)
        return
    refunds = await ledger.refunds_of_case(ctx.session, case.id)
    executed = [r for r in refunds if r.status is RefundStatus.APPROVED]
    for refund in executed:
        ledger.mark_executed(refund, ctx.now)
    await commitments.keep(
        ctx.session, case.id, ctx.now, CommitmentKind.REFUND_EXECUTION, CommitmentKind.FULFILMENT
    )
    await cases.record(
        ctx.session,
        case,
        ctx.now,
        "executed",
        role=Role.SELLER,
        actor_id=ctx.event.sender.id,
        state=CaseState.RESOLVED,
    )
    offer = await offers.current(ctx.session, case.id)
    remedy = offer.remedy if offer else None
    amount = executed[0].amount if executed else None
    ctx.to_buyer(case.buyer, "buyer/done", case=case, remedy=remedy, amount=amount, case_id=case.id)
    ctx.reply("seller/done_recorded", case=case, remedy=remedy, amount=amount)
