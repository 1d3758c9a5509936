"""The seller shipped the item again, or a replacement: its tracking number, typed in the
seller's chat after "Shipped", goes to the buyer (docs/offers-and-promises.md#reshipments)."""

from __future__ import annotations

from bot.domain.enums import Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases
from handlers.workflow import aftersales
from handlers.workflow.access import decider_case
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.tracking import tracking_number

router = Router()
TRACKED = "reship_tracking"  # the case event that records it


@router.text(Awaiting.SELLER_TRACKING)
async def tracking(ctx: Context) -> None:
    case = await decider_case(ctx, ctx.conversation.case_id or 0)
    number = tracking_number(ctx.event.text)
    if number is None:
        ctx.reply("seller/bad_tracking")
        return
    ctx.expect(None)
    case.reship_tracking = number
    cases.move(case, None, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        TRACKED,
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        tracking=number,
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/reship_tracking",
        case=case,
        tracking=number,
        case_id=case.id,
        buttons=aftersales.on_its_way(case),
    )
    ctx.reply("seller/reship_tracking_recorded", case=case, tracking=number)
