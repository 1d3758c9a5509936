"""Still not right after a resolution (docs/aftersales.md): within the policy's window the same
case is reopened, with its history, for a second round the policy allows. A second refund is
never approved by itself: its amount is the seller's, within what the ledger still holds."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, OfferStatus, Remedy, Role
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, offers
from handlers.payloads import SecondRound, StillNotRight
from handlers.workflow import aftersales, desk, notify
from handlers.workflow.access import owned_case
from handlers.workflow.awaiting import Awaiting

router = Router()
REMEDIES = {"refund": Remedy.REFUND, "replacement": Remedy.REPLACEMENT}


@router.button(StillNotRight)
async def still_not_right(ctx: Context, data: StillNotRight) -> None:
    case = await owned_case(ctx, data.case_id)
    if not aftersales.reopenable(ctx, case):
        raise Stale()
    aftersales.ask_second_round(ctx, case)


@router.button(SecondRound)
async def second_round(ctx: Context, data: SecondRound) -> None:
    case = await owned_case(ctx, data.case_id)
    allowed = ctx.seller(case.seller_id).policy.aftersales.second_round
    if not aftersales.reopenable(ctx, case) or data.choice not in allowed:
        raise Stale()
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "reopened",
        role=Role.BUYER,
        actor_id=ctx.event.author.id,
        choice=data.choice,
    )
    ctx.expect(Awaiting.CASE, case_id=case.id)
    if data.choice == "support":
        await desk.escalate(ctx, case, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        return
    # The seller decides: a refund's amount is theirs to set (capped by the ledger when they
    # do), a replacement theirs to approve. The first round's refunds are on their card.
    offer = await offers.create(
        ctx.tx,
        case,
        remedy=REMEDIES[data.choice],
        amount=None,
        status=OfferStatus.PENDING_SELLER,
        role=Role.BUYER,
        actor_id=ctx.event.author.id,
        now=ctx.now,
    )
    cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
    due = await notify.ask_seller(ctx, case, offer)
    ctx.reply("buyer/waiting_for_seller", case=case, offer=offer, due=due)
