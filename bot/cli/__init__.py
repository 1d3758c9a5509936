"""The `returndesk` command."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from bot.cli import (
    chat,
    checks,
    data,
    demo,
    inbox,
    links,
    logs,
    ozon,
    privacy,
    promises,
    report,
    serve,
    telegram,
    understand,
)
from bot.cli.common import errors
from bot.config.settings import LogSettings, SettingsError, read

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
app.command("serve")(serve.serve)
app.command("sweep")(promises.sweep)
app.command("stats")(promises.stats)
app.command("report")(report.report)
app.command("links")(links.links)
app.command("understand")(understand.understand)
app.add_typer(data.orders, name="orders")
app.add_typer(data.policy, name="policy")
app.add_typer(data.db, name="db")
app.add_typer(inbox.inbox, name="inbox")
app.add_typer(privacy.commands, name="privacy")
app.add_typer(ozon.ozon, name="ozon")
app.add_typer(checks.config, name="config")


def _version(shown: bool) -> None:
    if shown:
        print(f"returndesk {version('returndesk')}")
        raise typer.Exit


@app.callback()
def _options(
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """ReturnDesk: returns, partial refunds and cancellations for marketplace sellers."""


def main() -> None:
    try:
        style = read(LogSettings).format
    except SettingsError as error:
        for problem in error.problems:
            errors.print(problem, markup=False)
        raise SystemExit(2) from error
    logs.configure(style=style)
    app()
