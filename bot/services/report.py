"""A calendar month's figures (docs/reports.md): refunds by reason, SKU and marketplace,
deviations from policy, promises kept, reply and resolution times, the buyers with the most
cases, and the change against the month before.

Every figure is an SQL aggregate over the tables except the median and p90 times: SQLite has
no percentile function (PostgreSQL's is percentile_cont), so those are computed here over one
column of durations (seconds, computed by the database), which is all that is held in memory.
Money stays integer minor units per currency; nothing is added across currencies.

A seller's month runs midnight to midnight in the seller's zone; the month of all sellers
together runs in UTC, since the sellers' zones differ."""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    select,
)
from sqlalchemy.orm import QueryableAttribute, aliased

from bot.domain.enums import CaseState, PromiseKind, PromiseState, RefundStatus
from bot.storage.models import Buyer, Case, Offer, Order, OrderItem, Promise, Refund, Seller
from bot.storage.transaction import Transaction

WHOLE_ORDER = ""  # the SKU key of a refund not tied to one item
TOP = 10


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """ "2026-11" -> Month(2026, 11)."""
        year, _, month = text.partition("-")
        value = cls(int(year), int(month))
        if not 1 <= value.month <= 12:
            raise ValueError(f"no month {text!r}")
        return value

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def days(self) -> int:
        return (date(self.next.year, self.next.month, 1) - date(self.year, self.month, 1)).days

    def day_starts(self, zone: ZoneInfo) -> list[datetime]:
        """Midnight of each day of the month and of the next month's first, in `zone`, as
        aware datetimes (a day is 23 or 25 hours across a clock change)."""
        first = date(self.year, self.month, 1)
        return [
            datetime.combine(first + timedelta(days=n), datetime.min.time(), zone)
            for n in range(self.days + 1)
        ]

    @staticmethod
    def span(text: str) -> list[Month]:
        """ "2026-01..2026-11" -> the months from the first to the last, both included."""
        first, dots, last = text.partition("..")
        start = Month.parse(first)
        end = Month.parse(last) if dots else start
        months = [start]
        while months[-1] < end:
            months.append(months[-1].next)
        return months


@dataclass
class Amount:
    """A count of refunds (or orders) and their sum in one currency."""

    key: str
    currency: str
    count: int
    minor: int
    revenue_minor: int | None = None  # what the orders of the month brought, when they tell

    @property
    def share(self) -> float | None:
        """The refunded share of the revenue it is compared with."""
        return self.minor / self.revenue_minor if self.revenue_minor else None


@dataclass
class Deviation:
    """Offers one person decided away from the policy's standard amount."""

    decided_by: str  # the name recorded, or "policy" when nobody decided
    currency: str
    count: int
    above_minor: int  # over the standard, summed
    below_minor: int  # under the standard, summed (a positive number)


@dataclass
class Kept:
    kind: PromiseKind
    owner: str  # a seller id, or "support"
    kept: int = 0
    breached: int = 0

    @property
    def share(self) -> float | None:
        due = self.kept + self.breached
        return self.kept / due if due else None


@dataclass
class Times:
    """Median and 90th percentile of a duration, and over how many cases."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass
class TopBuyer:
    buyer_id: int
    name: str
    cases: int


@dataclass
class Satisfaction:
    """The buyers' ratings (1-5) given in the month (docs/aftersales.md)."""

    distribution: dict[int, int] = field(default_factory=dict)  # rating -> ratings, 1 to 5
    lowest: list[tuple[int, int, str]] = field(default_factory=list)  # case, rating, comment

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        total = sum(rating * n for rating, n in self.distribution.items())
        return total / self.count if self.count else None


@dataclass
class Totals:
    """The headline numbers, compared month on month."""

    cases: int = 0
    refunds: int = 0
    refunded_minor: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    breached: int = 0
    first_reply_median: timedelta | None = None

    @property
    def kept_share(self) -> float | None:
        due = self.kept + self.breached
        return self.kept / due if due else None


@dataclass
class Report:
    month: Month
    seller: str | None  # None: all sellers
    zone: str
    by_reason: list[Amount]
    by_sku: list[Amount]  # the TOP largest; key WHOLE_ORDER for refunds of a whole order
    by_marketplace: list[Amount]  # revenue_minor: the month's orders of that marketplace
    deviations: list[Deviation]
    promises: list[Kept]
    kept_by_day: list[tuple[int, int]]  # (kept, breached) of the promises due each day
    first_reply: Times
    resolution: Times
    top_buyers: list[TopBuyer]
    satisfaction: Satisfaction
    totals: Totals
    previous: Totals


async def month_report(tx: Transaction, month: Month, *, seller: str | None = None) -> Report:
    zone = await _zone(tx, seller)
    starts = month.day_starts(zone)
    window = _Window(starts[0], starts[-1], seller)
    before = month.previous.day_starts(zone)
    previous = _Window(before[0], before[-1], seller)
    first_reply = await _first_reply(tx, window)
    totals = await _totals(tx, window, first_reply)
    return Report(
        month=month,
        seller=seller,
        zone=str(zone),
        by_reason=await _refunds_by(tx, window, Refund.reason),
        by_sku=(await _refunds_by_sku(tx, window))[:TOP],
        by_marketplace=await _refunds_by_marketplace(tx, window),
        deviations=await _deviations(tx, window),
        promises=await _promises(tx, window),
        kept_by_day=await _kept_by_day(tx, window, starts),
        first_reply=first_reply,
        resolution=await _resolution(tx, window),
        top_buyers=await _top_buyers(tx, window),
        satisfaction=await _satisfaction(tx, window),
        totals=totals,
        previous=await _totals(tx, previous, await _first_reply(tx, previous)),
    )


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    seller: str | None

    def during(self, column: QueryableAttribute[datetime | None]) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def of_seller(self, column: QueryableAttribute[str]) -> ColumnElement[bool]:
        if self.seller is not None:
            return column == self.seller
        # Every seller: the same rows as no condition (the column is a foreign key to
        # sellers), written so that the month is a range of the (seller_id, date) indexes,
        # seller by seller, rather than a scan of the whole table (benchmarks/BENCHMARKS.md §8).
        return column.in_(select(Seller.id))


async def _zone(tx: Transaction, seller: str | None) -> ZoneInfo:
    if seller is None:
        return ZoneInfo("UTC")
    name = await tx.session.scalar(select(Seller.timezone).where(Seller.id == seller))
    if name is None:
        raise LookupError(f"no seller {seller!r}")
    return ZoneInfo(name)


def _counting() -> ColumnElement[bool]:
    # A failed refund gave nothing back (RefundStatus.counts).
    return Refund.status != RefundStatus.FAILED


async def _refunds_by(
    tx: Transaction, window: _Window, key: QueryableAttribute[Any]
) -> list[Amount]:
    query = (
        select(key, Refund.currency, func.count(), func.sum(Refund.amount_minor))
        .join(Order, Order.id == Refund.order_id)
        .where(window.during(Refund.created_at), _counting(), window.of_seller(Order.seller_id))
        .group_by(key, Refund.currency)
    )
    return _amounts(await tx.session.execute(query))


async def _refunds_by_sku(tx: Transaction, window: _Window) -> list[Amount]:
    sku = func.coalesce(OrderItem.sku, WHOLE_ORDER)
    query = (
        select(sku, Refund.currency, func.count(), func.sum(Refund.amount_minor))
        .join(Order, Order.id == Refund.order_id)
        .outerjoin(Case, Case.id == Refund.case_id)
        .outerjoin(OrderItem, OrderItem.id == Case.item_id)
        .where(window.during(Refund.created_at), _counting(), window.of_seller(Order.seller_id))
        .group_by(sku, Refund.currency)
    )
    return _amounts(await tx.session.execute(query))


async def _refunds_by_marketplace(tx: Transaction, window: _Window) -> list[Amount]:
    amounts = await _refunds_by(tx, window, Order.marketplace)
    revenue = select(
        Order.marketplace,
        Order.currency,
        func.sum(Order.paid_minor + Order.shipping_minor),
    ).where(
        window.during(Order.placed_at),
        Order.cancelled_at.is_(None),
        window.of_seller(Order.seller_id),
    )
    rows = await tx.session.execute(revenue.group_by(Order.marketplace, Order.currency))
    earned = {(m, c): int(total or 0) for m, c, total in rows}
    for amount in amounts:
        amount.revenue_minor = earned.get((amount.key, amount.currency))
    return amounts


def _amounts(rows: Iterable[tuple[str, str, int, int | None]]) -> list[Amount]:
    result = [
        Amount(key=str(key), currency=currency, count=int(count), minor=int(total or 0))
        for key, currency, count, total in rows
    ]
    return sorted(result, key=lambda a: (-a.minor, a.currency, a.key))


async def _deviations(tx: Transaction, window: _Window) -> list[Deviation]:
    difference = Offer.amount_minor - Offer.standard_amount_minor
    who = func.coalesce(Offer.decided_by_name, "policy")
    query = (
        select(
            who,
            Offer.currency,
            func.count(),
            func.sum(case((difference > 0, difference), else_=0)),
            func.sum(case((difference < 0, -difference), else_=0)),
        )
        .join(Case, Case.id == Offer.case_id)
        .where(
            Offer.deviation.is_(True),
            window.during(Offer.created_at),
            window.of_seller(Case.seller_id),
        )
        .group_by(who, Offer.currency)
    )
    rows = await tx.session.execute(query)
    result = [
        Deviation(str(name), currency, int(n), int(above or 0), int(below or 0))
        for name, currency, n, above, below in rows
    ]
    return sorted(result, key=lambda d: (-d.count, d.decided_by, d.currency))


async def _promises(tx: Transaction, window: _Window) -> list[Kept]:
    query = (
        select(Promise.kind, Promise.owner_ref, Promise.state, func.count())
        .join(Case, Case.id == Promise.case_id)
        .where(
            window.during(Promise.due_at),
            Promise.state.in_((PromiseState.KEPT, PromiseState.BREACHED)),
            window.of_seller(Case.seller_id),
        )
        .group_by(Promise.kind, Promise.owner_ref, Promise.state)
    )
    tallies: dict[tuple[PromiseKind, str], Kept] = {}
    for kind, owner, state, count in await tx.session.execute(query):
        tally = tallies.setdefault((kind, owner), Kept(kind, owner))
        if state == PromiseState.KEPT:
            tally.kept += int(count)
        else:
            tally.breached += int(count)
    return [tallies[key] for key in sorted(tallies)]


async def _kept_by_day(
    tx: Transaction, window: _Window, starts: list[datetime]
) -> list[tuple[int, int]]:
    # The day is a CASE over the day's boundaries computed here in the seller's zone: no
    # dialect's date functions, and a day across a clock change stays one day.
    day = case(
        *((Promise.due_at < end, n) for n, end in enumerate(starts[1:])), else_=len(starts) - 1
    )
    query = (
        select(day, Promise.state, func.count())
        .join(Case, Case.id == Promise.case_id)
        .where(
            window.during(Promise.due_at),
            Promise.state.in_((PromiseState.KEPT, PromiseState.BREACHED)),
            window.of_seller(Case.seller_id),
        )
        .group_by(day, Promise.state)
    )
    days = [[0, 0] for _ in starts[1:]]
    for n, state, count in await tx.session.execute(query):
        days[int(n)][0 if state == PromiseState.KEPT else 1] += int(count)
    return [(kept, breached) for kept, breached in days]


async def _first_reply(tx: Transaction, window: _Window) -> Times:
    """From a case's opening to the settling of its first promise (as `returndesk stats`
    counts it: bot/services/stats.py), over the cases opened in the month."""
    first = (
        select(Promise.case_id, func.min(Promise.id).label("id"))
        .group_by(Promise.case_id)
        .subquery()
    )
    settled = aliased(Promise)
    query = (
        select(_seconds(tx, Case.created_at, settled.closed_at))
        .select_from(Case)
        .join(first, first.c.case_id == Case.id)
        .join(settled, settled.id == first.c.id)
        .where(
            window.during(Case.created_at),
            window.of_seller(Case.seller_id),
            settled.state.in_((PromiseState.KEPT, PromiseState.BREACHED)),
            settled.closed_at.is_not(None),
        )
    )
    return await _times(tx, query)


async def _resolution(tx: Transaction, window: _Window) -> Times:
    query = select(_seconds(tx, Case.created_at, Case.closed_at)).where(
        Case.state == CaseState.RESOLVED,
        Case.closed_at.is_not(None),
        window.during(Case.created_at),
        window.of_seller(Case.seller_id),
    )
    return await _times(tx, query)


def _seconds(
    tx: Transaction,
    opened: QueryableAttribute[datetime],
    closed: QueryableAttribute[datetime | None],
) -> ColumnElement[float]:
    """The seconds between two times, computed by the database: one number a case comes back,
    not two datetimes. SQLite keeps times as UTC text, which julianday() reads."""
    if tx.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(closed) - func.julianday(opened)) * 86400.0
    return cast(extract("epoch", closed - opened), Float)


async def _times(tx: Transaction, query: Select[float]) -> Times:
    # A column of doubles, 8 bytes a case; rounded to the millisecond, which julianday's
    # floating point keeps exactly.
    seconds = array("d", sorted(round(float(v), 3) for v in await tx.session.scalars(query)))
    if not seconds:
        return Times()
    return Times(
        count=len(seconds),
        median=timedelta(seconds=_percentile(seconds, 0.5)),
        p90=timedelta(seconds=_percentile(seconds, 0.9)),
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def _top_buyers(tx: Transaction, window: _Window, limit: int = 5) -> list[TopBuyer]:
    count = func.count(Case.id)
    query = (
        select(Case.buyer_id, Buyer.name, count)
        .join(Buyer, Buyer.telegram_id == Case.buyer_id)
        .where(window.during(Case.created_at), window.of_seller(Case.seller_id))
        .group_by(Case.buyer_id, Buyer.name)
        .having(count > 1)
        .order_by(count.desc(), Case.buyer_id)
        .limit(limit)
    )
    # The inner join leaves out cases without a Telegram buyer (docs/ozon.md).
    rows = await tx.session.execute(query)
    return [TopBuyer(int(b or 0), name or "", int(n)) for b, name, n in rows]


async def _satisfaction(tx: Transaction, window: _Window, lowest: int = 5) -> Satisfaction:
    rated = (
        Case.rating.is_not(None),
        window.during(Case.rated_at),
        window.of_seller(Case.seller_id),
    )
    counts = select(Case.rating, func.count()).where(*rated).group_by(Case.rating)
    result = Satisfaction(
        distribution={int(r or 0): int(n) for r, n in await tx.session.execute(counts)}
    )
    comments = (
        select(Case.id, Case.rating, Case.rating_comment)
        .where(*rated, Case.rating_comment.is_not(None), Case.rating_comment != "")
        .order_by(Case.rating, Case.rated_at, Case.id)
        .limit(lowest)
    )
    result.lowest = [
        (int(case_id), int(rating or 0), str(comment))
        for case_id, rating, comment in await tx.session.execute(comments)
    ]
    return result


async def _totals(tx: Transaction, window: _Window, first_reply: Times) -> Totals:
    cases = await tx.session.scalar(
        select(func.count(Case.id)).where(
            window.during(Case.created_at), window.of_seller(Case.seller_id)
        )
    )
    refunded: defaultdict[str, int] = defaultdict(int)
    refunds = 0
    for amount in await _refunds_by(tx, window, Refund.currency):
        refunds += amount.count
        refunded[amount.currency] += amount.minor
    kept = breached = 0
    for tally in await _promises(tx, window):
        kept += tally.kept
        breached += tally.breached
    return Totals(
        cases=int(cases or 0),
        refunds=refunds,
        refunded_minor=dict(sorted(refunded.items())),
        kept=kept,
        breached=breached,
        first_reply_median=first_reply.median,
    )
