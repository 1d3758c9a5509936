"""Making a promise to a buyer from a handler: the owner's target and calendar come from the
shop, so handlers only say what is owed and by whom."""

from __future__ import annotations

from datetime import datetime

from bot.domain.enums import PromiseKind, Role
from bot.engine.context import Context
from bot.services import promises
from bot.storage.models import Case, Promise


async def promise(
    ctx: Context,
    case: Case,
    kind: PromiseKind,
    *,
    owner: Role = Role.SELLER,
    replaces: Promise | None = None,
    timed_as: PromiseKind | None = None,
) -> datetime:
    """Promise the buyer `kind` by the owner's target for it, or for `timed_as` when what is
    owed must wait for that first; returns when it falls due."""
    seller = ctx.seller(case.seller_id)
    calendar = ctx.shop.support.calendar if owner is Role.SUPPORT else seller.calendar
    return await promises.promise(
        ctx.tx,
        case,
        kind,
        target=seller.policy.target(timed_as or kind),
        calendar=calendar,
        warn_share=seller.policy.escalation.warn_at,
        now=ctx.now,
        owner_role=owner,
        replaces=replaces,
    )
