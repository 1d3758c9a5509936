"""returndesk sweep and returndesk stats: the promises the bot made."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import ConfigOption, DatabaseOption, console, open_app, run
from bot.config.settings import RetentionSettings, SweeperSettings, read
from bot.runtime.sweeper import Sweeper
from bot.services.retention import Retained, Retention
from bot.services.stats import promise_stats


def sweep(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep sweeping every RETURNDESK_SWEEPER_EVERY seconds.")
    ] = False,
) -> None:
    """Remind owners of promises near their due time, and escalate missed ones. The bot does
    this itself while it runs; this is for a separate process, or once after an outage. What
    it decides goes to the outbox, which `returndesk run` delivers."""

    async def go() -> None:
        app = await open_app(database_url, config)
        sweeper = Sweeper(db=app.db, clock=app.clock, engine=app.engine)
        sweeper.retain(Retention.of(read(RetentionSettings)), app.media)
        try:
            if loop:
                stop = asyncio.Event()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    asyncio.get_running_loop().add_signal_handler(signum, stop.set)
                await sweeper.run(stop, read(SweeperSettings).every)
            else:
                done = await sweeper.sweep()
                console.print(
                    f"{done.reminded} reminded, {done.breached} escalated, "
                    f"{done.already_done} already handled"
                )
                retained = await sweeper.retain_when_due()
                if retained:
                    console.print(f"past retention: {_retained(retained)}")
        finally:
            await app.close()

    run(go())


def stats(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    days: Annotated[int, typer.Option(help="Promises made in the last DAYS days.")] = 30,
    seller: Annotated[str | None, typer.Option(help="Only this seller's promises.")] = None,
) -> None:
    """How many promises were kept, per seller and kind; median times to first reply and to
    resolution."""

    async def go() -> None:
        app = await open_app(database_url, config)
        try:
            since = app.clock.now() - timedelta(days=days)
            async with app.db.reading() as tx:
                numbers = await promise_stats(tx, since=since, seller=seller)
        finally:
            await app.close()
        table = Table(title=f"Promises made since {since:%Y-%m-%d}", title_justify="left")
        for column in ("seller", "kind", "kept", "missed", "open", "kept share"):
            table.add_column(column)
        for (seller_id, kind), tally in numbers.by_seller_and_kind.items():
            share = "—" if tally.share is None else f"{tally.share:.0%}"
            table.add_row(
                seller_id, kind.value, str(tally.kept), str(tally.breached), str(tally.open), share
            )
        console.print(table)
        console.print(f"cases: {numbers.cases}")
        console.print(f"median time to first reply: {_hours(numbers.first_reply)}")
        console.print(f"median time to resolution: {_hours(numbers.resolution)}")

    run(go())


def _hours(value: timedelta | None) -> str:
    return "—" if value is None else f"{value.total_seconds() / 3600:.1f} h"


def _retained(done: Retained) -> str:
    return (
        f"{done.texts} message texts and {done.set_aside} set-aside updates removed, "
        f"{done.photos} photos removed ({done.files} files deleted), {done.audit} audit "
        f"entries masked, {done.cases} closed cases and {done.buyers} buyers' names masked"
        + (
            f"; {done.elsewhere} removed photos are kept where this media store cannot reach "
            "(named in the log)"
            if done.elsewhere
            else ""
        )
    )
