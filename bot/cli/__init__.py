"""The `returndesk` command."""

from __future__ import annotations

import typer

from bot.cli import (
    chat,
    data,
    demo,
    inbox,
    links,
    logs,
    ozon,
    promises,
    report,
    telegram,
    understand,
)

app = typer.Typer(
    name="returndesk",
    help="ReturnDesk: returns, partial refunds and cancellations for marketplace sellers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)
app.command("chat")(chat.chat)
app.command("run")(telegram.run_bot)
app.command("sweep")(promises.sweep)
app.command("stats")(promises.stats)
app.command("report")(report.report)
app.command("links")(links.links)
app.command("understand")(understand.understand)
app.add_typer(data.orders, name="orders")
app.add_typer(data.policy, name="policy")
app.add_typer(data.db, name="db")
app.add_typer(inbox.inbox, name="inbox")
app.add_typer(ozon.ozon, name="ozon")


def main() -> None:
    logs.configure()
    app()
