"""The buyer sends the item back: "I've sent it", then the tracking number."""

from __future__ import annotations

import re

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases
from handlers.payloads import ReturnSent
from handlers.workflow import cards, promising
from handlers.workflow.access import case_at
from handlers.workflow.awaiting import Awaiting

router = Router()
TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\- ]{3,39}$")


@router.button(ReturnSent)
async def sent(ctx: Context, data: ReturnSent) -> None:
    case = await case_at(ctx, data.case_id, CaseState.RETURN_SHIPPING)
    cases.move(case, CaseState.RETURN_TRACKING, ctx.now)
    ctx.expect(Awaiting.CASE_TRACKING, case_id=case.id)
    ctx.reply("buyer/ask_tracking", case=case)


@router.text(Awaiting.CASE_TRACKING)
async def tracking(ctx: Context) -> None:
    case = await case_at(ctx, ctx.conversation.case_id or 0, CaseState.RETURN_TRACKING)
    number = (ctx.event.text or "").strip()
    if not TRACKING.match(number):
        ctx.reply("buyer/bad_tracking", length=len(number))
        return
    case.return_tracking = number.replace(" ", "").upper()
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
