"""/pending: every case that waits for this decider, each with the buttons to act on it."""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.domain.enums import CaseState, CommitmentState
from bot.engine.context import Context
from bot.engine.errors import Refusal
from bot.engine.router import Router
from bot.services import commitments
from bot.storage.models import Case, Commitment
from handlers.seller import cards

router = Router()
WAITING_FOR_SELLER = (CaseState.AWAITING_SELLER, CaseState.RETURN_IN_TRANSIT, CaseState.EXECUTING)
MOST = 10


@router.command("pending")
async def pending(ctx: Context, _args: str) -> None:
    if not ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider")
    ctx.act_as_seller(sorted(ctx.actor.seller_ids)[0])
    due = (
        select(Commitment.case_id, Commitment.due_at, Commitment.kind)
        .where(Commitment.state == CommitmentState.OPEN)
        .subquery()
    )
    rows = await ctx.session.scalars(
        select(Case)
        .join(due, due.c.case_id == Case.id)
        .where(
            Case.seller_id.in_(ctx.actor.seller_ids),
            # A refund or shipment agreed is the seller's to do, whatever the case is doing.
            or_(Case.state.in_(WAITING_FOR_SELLER), due.c.kind.in_(sorted(commitments.OWED))),
        )
        .order_by(due.c.due_at, Case.id)
        .limit(MOST + 1)
    )
    waiting = list(dict.fromkeys(rows.unique()))  # a case with two promises once
    ctx.expect(None)
    ctx.reply("seller/pending", count=len(waiting[:MOST]), more=len(waiting) > MOST)
    for case in waiting[:MOST]:
        card = await cards.current_card(ctx.session, case)
        if card is not None:
            cards.show(ctx, case, card, only_chat=ctx.event.chat_id)
