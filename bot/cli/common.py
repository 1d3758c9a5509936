"""Options and helpers the commands share."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.app import App, build_app
from bot.config.settings import DatabaseSettings, SettingsError, read
from bot.config.shop import ConfigError
from bot.rendering import Renderer
from bot.storage.database import DatabaseURLError

T = TypeVar("T")
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The shop file (sellers, deciders, support, policies). Default: RETURNDESK_CONFIG, "
        "else the demo shop.",
        exists=True,
        dir_okay=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL. Default: RETURNDESK_DATABASE_URL, else sqlite returndesk.db.",
    ),
]


class UnreachableDatabaseError(Exception):
    """The database did not answer; the message names it, without its password."""


async def open_app(
    database_url: str | None, config: Path | None, renderer: Renderer | None = None
) -> App:
    """The app on the database the command was given (or the settings name), with one that
    cannot be reached said in a line rather than a traceback."""
    url = database_url or read(DatabaseSettings).url
    try:
        return await build_app(database_url=url, config=config, renderer=renderer)
    except (OSError, OperationalError, InterfaceError, DBAPIError) as error:
        message = f"cannot reach the database ({safe(url)}): {error}"
        raise UnreachableDatabaseError(message) from error


def safe(url: str) -> str:
    """A database URL as it may be shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; configuration problems end it with their lines, not a trace."""
    try:
        return asyncio.run(coroutine)
    except (ConfigError, SettingsError, DatabaseURLError) as error:
        problems = (
            [f"RETURNDESK_DATABASE_URL (or --database-url): {error}"]
            if isinstance(error, DatabaseURLError)
            else error.problems
        )
        if len(problems) == 1:  # one line, as any other reason not to start
            errors.print(f"[bold red]Cannot start:[/] {escape(str(problems[0]))}")
            raise typer.Exit(2) from error
        errors.print("[bold red]The configuration has problems:[/]")
        for problem in problems:
            errors.print(f"  {problem}", markup=False)
        raise typer.Exit(2) from error
    except UnreachableDatabaseError as error:
        errors.print(f"[bold red]Cannot start:[/] {error}", markup=True)
        raise typer.Exit(2) from error
