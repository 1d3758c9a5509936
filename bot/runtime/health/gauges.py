"""What the database holds, read when Prometheus scrapes: the outbox, open promises, the ledger,
dead letters. Each is one aggregate over an indexed column or a small table, so a scrape costs
a few milliseconds; the numbers are the whole bot's, the same on every worker (so a dashboard
takes max(), not sum(), across workers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.domain.enums import PromiseState
from bot.storage.models import DeadLetter, OutboxMessage, Promise, Refund
from bot.storage.transaction import Transaction
from bot.telemetry.metrics import PREFIX

OWED = ("pending", "sending")  # an outbox row marked failed waits for a person, not the sender


@dataclass(frozen=True)
class Outbox:
    depth: int
    oldest: datetime | None  # when the oldest reply still owed was written


async def outbox(tx: Transaction) -> Outbox:
    row = (
        await tx.session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_(OWED)
            )
        )
    ).one()
    return Outbox(depth=int(row[0]), oldest=row[1])


@dataclass(frozen=True)
class Snapshot:
    outbox: Outbox
    outbox_age: float  # seconds, 0 when nothing is owed
    promises_open: int
    refunds_approved: int
    refunds_executed: int
    dead_letters: int


async def snapshot(tx: Transaction, now: datetime) -> Snapshot:
    owed = await outbox(tx)
    session = tx.session
    promises_open = await session.scalar(
        select(func.count()).select_from(Promise).where(Promise.state == PromiseState.OPEN)
    )
    refunds = (
        await session.execute(
            select(func.count(Refund.approved_at), func.count(Refund.executed_at))
        )
    ).one()
    dead = await session.scalar(select(func.count()).select_from(DeadLetter))
    return Snapshot(
        outbox=owed,
        outbox_age=max(0.0, (now - owed.oldest).total_seconds()) if owed.oldest else 0.0,
        promises_open=int(promises_open or 0),
        refunds_approved=int(refunds[0]),
        refunds_executed=int(refunds[1]),
        dead_letters=int(dead or 0),
    )


class DatabaseCollector(Collector):
    """Yields the last snapshot the /metrics handler read (a collector's `collect` cannot wait
    for the database itself); none when the database did not answer, and then
    returndesk_database_up is 0."""

    def __init__(self) -> None:
        self.last: Snapshot | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{PREFIX}_database_up", "1 if the database answered this scrape's queries, else 0."
        )
        up.add_metric([], 1.0 if self.last else 0.0)
        yield up
        if self.last is None:
            return
        last = self.last
        yield _gauge(
            "outbox_depth", "Replies owed: outbox rows not yet delivered.", last.outbox.depth
        )
        yield _gauge(
            "outbox_oldest_age_seconds",
            "Age of the oldest reply still owed (0 when none is).",
            last.outbox_age,
        )
        yield _gauge("promises_open", "Promises open now, across the bot.", last.promises_open)
        yield _gauge(
            "dead_letters",
            "Updates set aside and still in the dead_letters table.",
            last.dead_letters,
        )
        approved = CounterMetricFamily(
            f"{PREFIX}_refunds_approved", "Refunds ever approved, from the ledger."
        )
        approved.add_metric([], last.refunds_approved)
        yield approved
        executed = CounterMetricFamily(
            f"{PREFIX}_refunds_executed", "Refunds ever marked as sent, from the ledger."
        )
        executed.add_metric([], last.refunds_executed)
        yield executed


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(f"{PREFIX}_{name}", documentation)
    gauge.add_metric([], value)
    return gauge
