"""returndesk orders import / policy check / db upgrade."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.config.shop import ConfigError, load_policy
from bot.services.importer import ImportReport, import_orders

orders = typer.Typer(help="Orders from the marketplace.", no_args_is_help=True)
policy = typer.Typer(help="Seller policies.", no_args_is_help=True)
db = typer.Typer(help="The database.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The file's encoding, e.g. cp1251. Default: told from the file (UTF-8 with or "
        "without BOM, UTF-16 with BOM, else Windows-1251 or GB18030).",
    ),
]


@orders.command("import")
def import_command(
    file: FileArgument,
    encoding: EncodingOption = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Load orders from JSON or CSV. Re-importing updates orders; bad rows are reported and
    skipped, good rows are kept."""
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as error:
            errors.print(f"--encoding: unknown encoding {encoding!r}", markup=False)
            raise typer.Exit(2) from error

    async def go() -> ImportReport:
        app = await open_app(database_url, config)
        # Rows are counted as they are read (a CSV is streamed): the bar shows how many, and
        # goes away when the summary line is printed.
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.completed} rows"),
            console=errors,
            transient=True,
            disable=not errors.is_terminal,  # a log or a pipe gets the summary alone
        )
        task = progress.add_task("import", total=None)
        try:
            with progress:
                async with app.db.unit() as tx:
                    return await import_orders(
                        tx,
                        file,
                        shop=app.shop,
                        now=app.clock.now(),
                        encoding=encoding,
                        keys=app.claim_keys,
                        on_row=lambda: progress.advance(task),
                    )
        finally:
            await app.close()

    report = run(go())
    read_as = "" if report.encoding == "utf-8" else f" (read as {report.encoding})"
    console.print(
        f"{file}{read_as}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.problems)} skipped",
        markup=False,
        soft_wrap=True,
    )
    for problem in report.problems:
        errors.print(f"  {file}: {problem}", markup=False)
    if report.problems:
        raise typer.Exit(1)


@policy.command("check")
def check(file: FileArgument) -> None:
    """Validate a policy file and explain every problem with its line."""
    try:
        load_policy(file)
    except ConfigError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False)
        if len(error.problems) > 1:
            errors.print(f"[red]{len(error.problems)} problems[/]")
        raise typer.Exit(1) from error
    console.print(f"{file}: the policy is valid")


@db.command("upgrade")
def upgrade(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Create or migrate the schema to the newest version (every command does this too)."""

    async def go() -> None:
        app = await open_app(database_url, config)
        await app.close()

    run(go())
    console.print("the database is up to date")


@orders.command("rebind")
def rebind_command(
    number: Annotated[str, typer.Argument(help="The order's number.")],
    telegram_id: Annotated[int, typer.Argument(help="The Telegram id of its rightful buyer.")],
    seller: Annotated[
        str | None, typer.Option("--seller", help="The seller, when sellers share numbers.")
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Give an order (and its open cases) to another Telegram account: support's answer when
    someone else claimed it first (docs/claiming.md). Audited."""
    from sqlalchemy import select

    from bot.services import claims
    from bot.storage import audit
    from bot.storage.models import Order

    async def go() -> str | None:
        app = await open_app(database_url, config)
        try:
            async with app.db.unit() as tx:
                query = select(Order).where(Order.number == number)
                if seller is not None:
                    query = query.where(Order.seller_id == seller)
                found = list(await tx.session.scalars(query.limit(2)))
                if len(found) != 1:
                    return "no such order" if not found else "several orders: add --seller"
                now = app.clock.now()
                before = found[0].buyer_id
                await claims.rebind(tx, found[0], telegram_id, now)
                audit.record(
                    tx,
                    now,
                    actor_id=None,
                    action="claim.rebound",
                    target=f"order:{found[0].id}",
                    allowed=True,
                    detail={"from": before, "to": telegram_id, "by": "cli"},
                )
                return None
        finally:
            await app.close()

    problem = run(go())
    if problem is not None:
        errors.print(f"{number}: {problem}", markup=False)
        raise typer.Exit(1)
    console.print(f"order {number} now belongs to Telegram user {telegram_id}", markup=False)
