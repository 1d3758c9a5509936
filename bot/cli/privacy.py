"""returndesk privacy export / erase: one buyer's personal data (docs/privacy.md)."""

from __future__ import annotations

import getpass
import sys
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.config.settings import MediaSettings, read
from bot.services import privacy, retention

FILES_BATCH = 500  # photos' copies deleted a turn after an erasure
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

    async def go() -> tuple[privacy.Export, privacy.PhotoFiles] | None:
        opened = await open_app(database_url, config)
        try:
            async with opened.db.reading() as tx:
                if not await privacy.known(tx, buyer):
                    return None
                found = await privacy.export(tx, buyer)
            return found, await privacy.photo_files(opened.media, found.photos)
        finally:
            await opened.close()

    exported = run(go())
    if exported is None:
        errors.print(f"Nothing is held about Telegram user {buyer}.", markup=False)
        raise typer.Exit(1)
    found, files = exported
    found.data["photo_files_missing"] = files.missing
    found.data["photo_files_elsewhere"] = [
        {"evidence_id": photo.evidence_id, "stored_path": photo.stored_path}
        for photo in files.elsewhere
    ]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for photo, content in files.found:
            archive.writestr(privacy.photo_name(photo), content)
        archive.writestr("data.json", privacy.as_json(found.data))
    console.print(
        f"Wrote {target}: data.json ({len(found.data['cases'])} cases, "
        f"{len(found.data['messages'])} messages, {len(found.data['audit'])} audit entries) "
        f"and {len(files.found)} photos"
        + (f"; {len(files.missing)} photo files were already gone" if files.missing else ""),
        markup=False,
        soft_wrap=True,
    )
    _elsewhere(
        [photo.stored_path for photo in files.elsewhere],
        "are not in the zip; an export run with that store's settings reads them",
    )


def _elsewhere(places: list[str], what: str) -> None:
    """Photos kept where this process's media store cannot reach, named (docs/privacy.md)."""
    if not places:
        return
    backend = read(MediaSettings).backend
    errors.print(
        f"{len(places)} photos are kept by another media store than this one "
        f"(RETURNDESK_MEDIA_BACKEND={backend}) and {what}:",
        markup=False,
        soft_wrap=True,
    )
    for place in places:
        errors.print(f"  {place}", markup=False, soft_wrap=True)


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

    async def go() -> tuple[privacy.Erased, retention.Files] | None:
        opened = await open_app(database_url, config)
        try:
            async with opened.db.unit() as tx:
                if not await privacy.known(tx, buyer):
                    return None
                done = await privacy.erase(tx, buyer, opened.clock.now(), by_id=None, by=who)
            # The photos' copies, now that the erasure is committed.
            return done, await retention.delete_files(opened.db, opened.media, FILES_BATCH)
        finally:
            await opened.close()

    erased = run(go())
    if erased is None:
        errors.print(f"Nothing is held about Telegram user {buyer}.", markup=False)
        raise typer.Exit(1)
    done, files = erased
    _elsewhere(
        files.elsewhere,
        "were not deleted there; this command or `returndesk sweep` run with that store's "
        "settings deletes them",
    )
    if not done.changed:
        console.print(f"Telegram user {buyer}: already erased, nothing left to change.")
        return
    console.print(f"Erased Telegram user {buyer}'s personal data:", markup=False)
    for what, count in privacy.erased_counts(done):
        console.print(f"  {count} {what}", markup=False)
    console.print("The ledger's amounts, reasons and dates are kept. Audited as privacy.erased.")
