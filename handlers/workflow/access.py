"""Who may act on a case: its buyer on their own case, a seller's deciders on the seller's.
Who they are comes from the shop file and the update's sender, never from a button."""

from __future__ import annotations

from bot.domain.enums import CaseState
from bot.engine.context import Context
from bot.engine.errors import Refusal, Stale
from bot.services import cases, offers
from bot.storage.models import Case, Offer


async def owned_case(ctx: Context, case_id: int) -> Case:
    """The sender's own case, locked; anyone else's is refused and audited."""
    case = await cases.lock_case(ctx.tx, case_id)
    if case is None:
        raise Stale()
    if case.buyer_id != ctx.event.author.id:
        raise Refusal("common/not_allowed", audit="buyer.foreign_case", case=str(case_id))
    return case


async def case_at(ctx: Context, case_id: int, *states: CaseState) -> Case:
    """The sender's case, if it still waits for the answer this button gives."""
    case = await owned_case(ctx, case_id)
    if case.state not in states:
        raise Stale()
    return case


async def decider_case(ctx: Context, case_id: int) -> Case:
    case = await cases.lock_case(ctx.tx, case_id)
    if case is None:
        raise Stale()
    if case.seller_id not in ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider", case=str(case_id))
    ctx.act_as_seller(case.seller_id)
    return case


async def decider_offer(ctx: Context, offer_id: int) -> tuple[Case, Offer]:
    # The case before the offer: the order every update locks in (docs/locking.md).
    case = await cases.lock_case_of_offer(ctx.tx, offer_id)
    if case is None:
        raise Stale()
    case = await decider_case(ctx, case.id)
    offer = await offers.lock(ctx.tx, offer_id)
    if offer is None:
        raise Stale()
    return case, offer


def decider_name(ctx: Context) -> str:
    for seller_id in ctx.actor.seller_ids:
        for person in ctx.seller(seller_id).deciders:
            if person.telegram_id == ctx.event.author.id and person.name:
                return person.name
    return ctx.event.author.name or str(ctx.event.author.id)
