"""The buyer sends the item back: "I've sent it", then the tracking number."""

from __future__ import annotations

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases
from handlers.payloads import ReturnSent
from handlers.workflow import cards, promising
from handlers.workflow.access import case_at
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.tracking import tracking_number

router = Router()


@router.button(ReturnSent)
async def sent(ctx: Context, data: ReturnSent) -> None:
    case = await case_at(ctx, data.case_id, CaseState.RETURN_SHIPPING)
    cases.move(case, CaseState.RETURN_TRACKING, ctx.now)
    ctx.expect(Awaiting.CASE_TRACKING, case_id=case.id)
    ctx.reply("buyer/ask_tracking", case=case)


@router.text(Awaiting.CASE_TRACKING)
async def tracking(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.RETURN_TRACKING)
    number = tracking_number(ctx.event.text)
    if number is None:
        ctx.reply("buyer/bad_tracking")
        return
    case.return_tracking = number
    cases.move(case, CaseState.RETURN_IN_TRANSIT, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "return_sent",
        role=Role.BUYER,
        actor_id=ctx.event.author.id,
        tracking=case.return_tracking,
    )
    due = await promising.promise(ctx, case, PromiseKind.RETURN_INSPECTION)
    cards.show(ctx, case, cards.return_card(case, due))
    ctx.expect(Awaiting.CASE, case_id=case.id)
    ctx.reply("buyer/return_registered", case=case, due=due)
