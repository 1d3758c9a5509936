"""How well promises are kept, from the promises table: the share kept per seller and kind,
and the median time to the first reply and to resolution.

The first reply of a case is when its first promise was settled: kept, or done late, or broken
(then its due time counts: the buyer waited at least that long, so the median is, if anything,
too kind to a seller who misses promises)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain.enums import CaseState, PromiseKind, PromiseState
from bot.storage.models import Case, Promise
from bot.storage.transaction import Transaction


@dataclass
class Kept:
    kept: int = 0
    breached: int = 0
    open: int = 0

    @property
    def share(self) -> float | None:
        """Kept among the promises that came due (None before any did)."""
        due = self.kept + self.breached
        return self.kept / due if due else None


@dataclass
class PromiseStats:
    by_seller_and_kind: dict[tuple[str, PromiseKind], Kept] = field(default_factory=dict)
    first_reply: timedelta | None = None  # median over cases
    resolution: timedelta | None = None  # median over resolved cases
    cases: int = 0


async def promise_stats(
    tx: Transaction, *, since: datetime | None = None, seller: str | None = None
) -> PromiseStats:
    query = select(Promise, Case.seller_id).join(Case, Case.id == Promise.case_id)
    if since is not None:
        query = query.where(Promise.created_at >= since)
    if seller is not None:
        query = query.where(Case.seller_id == seller)
    rows = (await tx.session.execute(query.order_by(Promise.case_id, Promise.id))).all()

    result = PromiseStats()
    tallies: defaultdict[tuple[str, PromiseKind], Kept] = defaultdict(Kept)
    first_by_case: dict[int, Promise] = {}
    for promise, seller_id in rows:
        tally = tallies[seller_id, promise.kind]
        match promise.state:
            case PromiseState.KEPT:
                tally.kept += 1
            case PromiseState.BREACHED:
                tally.breached += 1
            case PromiseState.OPEN:
                tally.open += 1
        first_by_case.setdefault(promise.case_id, promise)
    result.by_seller_and_kind = dict(sorted(tallies.items()))

    replies = [
        c.closed_at - c.created_at
        for c in first_by_case.values()
        if c.closed_at is not None and c.state in (PromiseState.KEPT, PromiseState.BREACHED)
    ]
    result.first_reply = _median(replies)

    cases = select(Case.created_at, Case.closed_at).where(Case.state == CaseState.RESOLVED)
    if since is not None:
        cases = cases.where(Case.created_at >= since)
    if seller is not None:
        cases = cases.where(Case.seller_id == seller)
    durations = [
        closed - opened for opened, closed in (await tx.session.execute(cases)).all() if closed
    ]
    result.resolution = _median(durations)
    result.cases = len(first_by_case)
    return result


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))
