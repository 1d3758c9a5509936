"""The satisfaction survey on a resolved case (docs/aftersales.md): due some time after the
resolution, asked once by the sweeper, answered with 1-5 stars and an optional comment."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select

from bot.domain.enums import CaseState
from bot.storage.models import Case
from bot.storage.plans import known_limit
from bot.storage.transaction import Transaction

LOW = 2  # a rating at or under it opens a follow-up the seller owes
STARS = range(1, 6)
SWEEP_BATCH = 500


def schedule(case: Case, now: datetime, after: timedelta) -> None:
    """The case was resolved: its survey falls due `after` from now, unless one was set already
    (a case is surveyed once, however often it is resolved)."""
    if case.state is CaseState.RESOLVED and case.survey_due_at is None:
        case.survey_due_at = now + after


async def due(tx: Transaction, now: datetime, limit: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    """What the sweeper asks: resolved cases whose survey fell due and was not asked yet, as
    (case, the buyer's chat), oldest first."""
    rows = (await tx.session.execute(falling_due(now, limit))).all()
    # A case without a Telegram buyer (one Ozon opened, docs/ozon.md) has nobody to ask.
    return [(c, chat) for c, chat in rows if chat is not None]


def falling_due(now: datetime, limit: int = SWEEP_BATCH) -> Select[int, int | None]:
    return (
        select(Case.id, Case.buyer_id)
        .where(Case.survey_due_at <= now, Case.surveyed_at.is_(None))
        .order_by(Case.survey_due_at)
        .limit(known_limit(limit))
    )


def asked(case: Case, now: datetime) -> bool:
    """Mark the survey asked; False when it had been (once is enough)."""
    if case.surveyed_at is not None:
        return False
    case.surveyed_at = now
    return True


def rate(case: Case, stars: int, now: datetime) -> bool:
    """Store the buyer's stars; False when the case was rated already or was never asked."""
    if case.surveyed_at is None or case.rating is not None or stars not in STARS:
        return False
    case.rating, case.rated_at = stars, now
    return True


def comment(case: Case, text: str) -> None:
    case.rating_comment = text
