"""returndesk demo: two complete cases through the real engine, with no token and no server."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from rich.table import Table
from sqlalchemy import select

from bot.cli.common import console, run
from bot.clock import FakeClock
from bot.demo import DEMO_ORDERS
from bot.demo.narrator import Narrator
from bot.demo.script import Script, play
from bot.domain.enums import PromiseState, RefundStatus
from bot.sandbox import Sandbox
from bot.storage.models import Case, Order, Promise, Refund

# A fixed moment, so the demo prints the same every time: Monday 16 November 2026, 09:00 Moscow.
DEMO_START = datetime.fromisoformat("2026-11-16T09:00:00+03:00")


def demo() -> None:
    """Play two scripted cases (a discontinued accessory, a return) and show the ledger."""
    run(_demo())


async def _demo() -> None:
    with tempfile.TemporaryDirectory(prefix="returndesk-demo-") as folder:
        clock = FakeClock(DEMO_START)
        sandbox = await Sandbox.open(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}", clock=clock
        )
        try:
            report = await sandbox.import_orders(DEMO_ORDERS)
            console.print(
                f"[dim]Demo shop: {sandbox.app.shop.sellers[0].name}; "
                f"{report.created} orders imported into a temporary SQLite database.[/]"
            )
            roles = {d.telegram_id: "seller" for s in sandbox.app.shop.sellers for d in s.deciders}
            narrator = Narrator(sandbox, console, roles)
            await play(Script(sandbox, narrator, clock))
            await _summary(sandbox)
        finally:
            await sandbox.close()


async def _summary(sandbox: Sandbox) -> None:
    async with sandbox.db.session() as session:
        refunds = (
            await session.execute(
                select(Refund, Order.number)
                .join(Order, Refund.order_id == Order.id)
                .order_by(Refund.id)
            )
        ).all()
        ledger = Table(title="Refund ledger", title_justify="left")
        columns = ("#", "order", "amount", "reason", "status", "approved (UTC)", "sent (UTC)")
        for column in (*columns, "failed (UTC)", "why it failed"):
            ledger.add_column(column)
        for refund, number in refunds:
            ledger.add_row(
                str(refund.id),
                number,
                f"{refund.amount.amount} {refund.amount.currency}",
                refund.reason.value,
                refund.status.value,
                _when(refund.approved_at),
                _when(refund.executed_at),
                _when(refund.failed_at),
                (refund.note or "") if refund.status is RefundStatus.FAILED else "",
            )
        console.print(ledger)

        rows = (
            await session.execute(
                select(Promise, Case)
                .join(Case, Promise.case_id == Case.id)
                .where(Promise.state == PromiseState.OPEN)
                .order_by(Promise.due_at)
            )
        ).all()
        promises = Table(title="Open promises", title_justify="left")
        for column in ("#", "case", "owed", "by", "due (UTC)"):
            promises.add_column(column)
        for promise, case in rows:
            promises.add_row(
                str(promise.id),
                str(case.id),
                promise.kind.value,
                f"{promise.owner_role.value} {promise.owner_ref}",
                _when(promise.due_at),
            )
        console.print(promises)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%b %d %H:%M") if moment else "—"
