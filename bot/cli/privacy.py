"""returndesk privacy export / erase: one buyer's personal data (docs/privacy.md)."""

from __future__ import annotations

import getpass
import sys
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.services import privacy, retention
from bot.services.photos import delete_photo, read_photo

commands = typer.Typer(help="One buyer's personal data: export it, or erase it.")
BuyerOption = Annotated[
    int,
    typer.Option(
        "--buyer", help="The buyer's Telegram id (as `returndesk report` shows it).", min=1
    ),
]


@commands.command("export")
def export(
    buyer: BuyerOption,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The zip to write. Default: buyer-TELEGRAM_ID.zip here."),
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Everything held about a buyer, as data.json plus their photos, in a zip."""
    target = out or Path(f"buyer-{buyer}.zip")

    async def go() -> privacy.Export | None:
        opened = await open_app(database_url, config)
        try:
            async with opened.db.reading() as tx:
                if not await privacy.known(tx, buyer):
                    return None
                return await privacy.export(tx, buyer)
        finally:
            await opened.close()

    found = run(go())
    if found is None:
        errors.print(f"Nothing is held about Telegram user {buyer}.", markup=False)
        raise typer.Exit(1)
    missing = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for photo in found.photos:
            content = read_photo(photo.stored_path)
            if content is None:
                missing.append(photo.evidence_id)
                continue
            archive.writestr(privacy.photo_name(photo), content)
        found.data["photo_files_missing"] = missing
        archive.writestr("data.json", privacy.as_json(found.data))
    kept = len(found.photos) - len(missing)
    console.print(
        f"Wrote {target}: data.json ({len(found.data['cases'])} cases, "
        f"{len(found.data['messages'])} messages, {len(found.data['audit'])} audit entries) "
        f"and {kept} photos"
        + (f"; {len(missing)} photo files were already gone" if missing else ""),
        markup=False,
        soft_wrap=True,
    )


@commands.command("erase")
def erase(
    buyer: BuyerOption,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Remove a buyer's words and photos and mask their name; the ledger's amounts, reasons and
    dates stay. Audited; running it again changes nothing more."""
    if not yes:
        if not sys.stdin.isatty():
            errors.print(
                f"Refusing to erase Telegram user {buyer}'s data without --yes.", markup=False
            )
            raise typer.Exit(2)
        typer.confirm(f"Erase everything personal held about Telegram user {buyer}?", abort=True)
    who = f"cli:{getpass.getuser()}"

    async def go() -> privacy.Erased | None:
        opened = await open_app(database_url, config)
        try:
            async with opened.db.unit() as tx:
                if not await privacy.known(tx, buyer):
                    return None
                done = await privacy.erase(tx, buyer, opened.clock.now(), by_id=None, by=who)
            while True:  # the photos' copies, now that the erasure is committed
                async with opened.db.unit() as tx:
                    if not await retention.delete_files(tx, 500, delete_photo):
                        return done
        finally:
            await opened.close()

    done = run(go())
    if done is None:
        errors.print(f"Nothing is held about Telegram user {buyer}.", markup=False)
        raise typer.Exit(1)
    if not done.changed:
        console.print(f"Telegram user {buyer}: already erased, nothing left to change.")
        return
    console.print(f"Erased Telegram user {buyer}'s personal data:", markup=False)
    for what, count in privacy.erased_counts(done):
        console.print(f"  {count} {what}", markup=False)
    console.print("The ledger's amounts, reasons and dates are kept. Audited as privacy.erased.")
