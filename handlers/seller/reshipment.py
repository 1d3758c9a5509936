"""The seller shipped the item again, or a replacement: its tracking number, typed in the
seller's chat after "Shipped", goes to the buyer; and for a replacement, what becomes of the item
it replaces (docs/offers-and-promises.md#reshipments)."""

from __future__ import annotations

from bot.domain.enums import ItemSettlement, Remedy, Role
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, offers
from handlers.payloads import SettleItem
from handlers.workflow import aftersales
from handlers.workflow.access import decider_case
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.tracking import tracking_number

router = Router()
TRACKED = "reship_tracking"  # the case event that records it
SETTLED = "item_settled"  # the case event of what becomes of the item a replacement replaces


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


@router.button(SettleItem)
async def settle(ctx: Context, data: SettleItem) -> None:
    """The buyer keeps the item a replacement replaces, or sends it back at the seller's cost;
    settled once, recorded, and told to the buyer. No refund is due for it either way."""
    case = await decider_case(ctx, data.case_id)
    offer = await offers.current(ctx.tx, case.id)
    if offer is None or offer.remedy is not Remedy.REPLACEMENT:
        raise Stale()
    if case.item_settlement is not None:
        ctx.answer("seller/item_settled", case=case, settlement=case.item_settlement)
        return
    try:
        settlement = ItemSettlement(data.choice)
    except ValueError:
        raise Stale() from None
    case.item_settlement = settlement
    cases.move(case, None, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        SETTLED,
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        settlement=settlement.value,
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/item_settled",
        case=case,
        order=case.order,
        settlement=settlement,
        seller=ctx.seller(case.seller_id),
        case_id=case.id,
    )
    ctx.reply("seller/item_settled", case=case, settlement=settlement)
