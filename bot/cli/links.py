"""returndesk links: a signed t.me link per order, its QR code, and cards to print and put in
the parcels (docs/claiming.md)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.cards import Card, pdf_sheet, png_sheets, write_qr
from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.config.settings import LinkSettings, TelegramSettings, read
from bot.rendering import Reader, plain_text
from bot.rendering.fonts import find_font
from bot.services import claims


class SheetFormat(StrEnum):
    PDF = "pdf"
    PNG = "png"


@dataclass
class Made:
    cards: list[Card]
    sheets: list[Path]
    missing: list[str]


def links(  # noqa: PLR0917 - a command's arguments and options
    orders: Annotated[list[str] | None, typer.Argument(help="Order numbers.")] = None,
    all_new: Annotated[
        bool, typer.Option("--all-new", help="Every order not given a link yet.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = Path("cards"),
    sheet: Annotated[
        SheetFormat, typer.Option("--format", help="The printable sheet: pdf or png.")
    ] = SheetFormat.PDF,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write each order's link and QR code, and a sheet of parcel cards in its buyer's language."""
    if bool(orders) == all_new:
        errors.print("name order numbers or give --all-new (one of the two)", markup=False)
        raise typer.Exit(2)
    settings = run(_settings())
    if settings.secret is None:
        errors.print(
            "RETURNDESK_LINK_SECRET is not set: links cannot be signed (docs/claiming.md)",
            markup=False,
        )
        raise typer.Exit(2)
    try:
        font = find_font(settings.font)
    except FileNotFoundError as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from error
    username = settings.bot_username or _username_from_telegram()
    out.mkdir(parents=True, exist_ok=True)

    made = run(
        _make(
            database_url,
            config,
            numbers=orders or [],
            all_new=all_new,
            out=out,
            sheet=sheet,
            username=username,
            font=font,
        )
    )
    for card in made.cards:
        console.print(f"#{card.number}: {card.link}", markup=False, soft_wrap=True)
    for path in made.sheets:
        console.print(f"cards to print: {path}", markup=False)
    for number in made.missing:
        errors.print(f"no order {number}", markup=False)
    if not made.cards and not made.missing:
        console.print("no orders without a link", markup=False)
    if made.missing:
        raise typer.Exit(1)


async def _make(
    database_url: str | None,
    config: Path | None,
    *,
    numbers: list[str],
    all_new: bool,
    out: Path,
    sheet: SheetFormat,
    username: str,
    font: Path,
) -> Made:
    app = await open_app(database_url, config)
    try:
        keys = app.claim_keys
        assert keys is not None  # the same secret as above
        now = app.clock.now()
        async with app.db.unit() as tx:
            found, missing = await claims.orders_for_links(tx, numbers, all_new=all_new)
            cards = []
            for order in found:
                seller = app.shop.seller(order.seller_id)
                expires = now + seller.policy.claiming.link_valid
                link = f"https://t.me/{username}?start={keys.token(order.id, expires)}"
                stem = _safe(f"{order.seller_id}-{order.marketplace}-{order.number}")
                qr = out / f"{stem}.png"
                write_qr(link, qr)
                (out / f"{stem}.txt").write_text(link + "\n", encoding="utf-8")
                reader = Reader(order.buyer_language or seller.language)
                text = app.renderer.render(
                    "cards/parcel", reader, number=order.number, seller_name=seller.name
                )
                lines = [line for line in plain_text(text).splitlines() if line.strip()]
                cards.append(Card(order.number, link, lines, qr))
            await claims.mark_linked(tx, found, now)
        if not cards:
            return Made([], [], missing)
        if sheet is SheetFormat.PDF:
            sheets = [pdf_sheet(cards, font, out / "cards.pdf")]
        else:
            sheets = png_sheets(cards, font, out)
        return Made(cards, sheets, missing)
    finally:
        await app.close()


async def _settings() -> LinkSettings:
    return read(LinkSettings)


def _username_from_telegram() -> str:
    """The bot's @username from getMe, when RETURNDESK_LINK_BOT_USERNAME does not give it."""
    telegram = read(TelegramSettings)
    if telegram.token is None:
        errors.print(
            "set RETURNDESK_LINK_BOT_USERNAME, or RETURNDESK_TELEGRAM_TOKEN to ask Telegram",
            markup=False,
        )
        raise typer.Exit(2)
    url = f"{telegram.api_url}/bot{telegram.token.get_secret_value()}/getMe"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - http(s) only
            return str(json.load(answer)["result"]["username"])
    except (OSError, KeyError, ValueError) as error:
        errors.print(f"cannot ask Telegram for the bot's username: {type(error).__name__}")
        raise typer.Exit(2) from error


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


__all__ = ["links"]
