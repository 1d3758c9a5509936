"""Options and helpers the commands share."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from bot.config.settings import SettingsError
from bot.config.shop import ConfigError

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


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; configuration problems end it with their lines, not a trace."""
    try:
        return asyncio.run(coroutine)
    except (ConfigError, SettingsError) as error:
        errors.print("[bold red]The configuration has problems:[/]")
        for problem in error.problems:
            errors.print(f"  {problem}", markup=False)
        raise typer.Exit(2) from error
