"""What follows a resolution (docs/aftersales.md): the satisfaction survey is scheduled by the
seller's policy wherever a case is resolved."""

from __future__ import annotations

from bot.engine.context import Context
from bot.services import surveys
from bot.storage.models import Case


def resolved(ctx: Context, case: Case) -> None:
    """Call after `cases.move` may have resolved the case: a resolved case's buyer is asked,
    once, `[aftersales] survey_after` later, how it went."""
    policy = ctx.seller(case.seller_id).policy
    surveys.schedule(case, ctx.now, policy.aftersales.survey_after)
