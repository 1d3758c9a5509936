"""returndesk ozon: the Ozon Seller API connector (docs/ozon.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.config.settings import OzonSettings, SettingsError, ShopSettings, read
from bot.config.shop import SellerConfig, ShopConfig, load_shop
from bot.marketplaces.ozon import OzonApiError, OzonError
from bot.marketplaces.ozon.client import NEEDED_METHODS
from bot.runtime.ozon import OzonSync, SellerSync, make_client
from bot.services import ozon_orders

ozon = typer.Typer(help="The Ozon Seller API: pull orders, check a key.", no_args_is_help=True)
SellerOption = Annotated[
    str | None, typer.Option("--seller", help="Only this seller (its id in the shop file).")
]


def _chosen(shop: ShopConfig, seller_id: str | None) -> list[SellerConfig]:
    if seller_id is None:
        chosen = [s for s in shop.sellers if s.ozon is not None]
        if not chosen:
            errors.print("No seller in the shop file has [sellers.ozon] (docs/ozon.md).")
            raise typer.Exit(2)
        return chosen
    try:
        seller = shop.seller(seller_id)
    except KeyError:
        errors.print(f"No seller {seller_id!r} in the shop file.", markup=False)
        raise typer.Exit(2) from None
    if seller.ozon is None:
        errors.print(f"Seller {seller_id!r} has no [sellers.ozon] in the shop file.", markup=False)
        raise typer.Exit(2)
    return [seller]


@ozon.command("sync")
def sync(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    seller: SellerOption = None,
) -> None:
    """Pull the sellers' Ozon postings as orders once, from where the last pull stopped.
    `returndesk run` does this every RETURNDESK_OZON_SYNC_EVERY minutes."""

    async def go() -> list[SellerSync]:
        settings = read(OzonSettings)
        app = await open_app(database_url, config)
        chosen = _chosen(app.shop, seller)
        syncer = OzonSync(
            db=app.db, clock=app.clock, shop=app.shop, settings=settings, keys=app.claim_keys
        )
        try:
            done = [await syncer.sync_seller(s) for s in chosen]
            async with app.db.reading() as tx:
                aside = {s.id: await ozon_orders.set_aside(tx, s.id) for s in chosen}
        finally:
            await syncer.close()
            await app.close()
        for result in done:
            resumed = " (resumed an interrupted pull)" if result.resumed else ""
            console.print(
                f"{result.seller_id}: {result.created} new, {result.updated} changed, "
                f"{result.unchanged} unchanged, {len(result.set_aside)} set aside{resumed}",
                markup=False,
            )
            if result.error:
                errors.print(f"  stopped: {result.error}", markup=False)
            for record in aside[result.seller_id]:
                console.print(f"  set aside {record.record}: {record.reason}", markup=False)
        return done

    done = run(go())
    if any(r.error for r in done):
        raise typer.Exit(1)


@ozon.command("check")
def check(config: ConfigOption = None, seller: SellerOption = None) -> None:
    """Ask Ozon what each seller's API key may do (/v1/roles), and say what ReturnDesk needs
    that it lacks."""

    async def go() -> bool:
        settings = read(OzonSettings)
        shop = load_shop(config or read(ShopSettings).config)
        ok = True
        for chosen in _chosen(shop, seller):
            ok = await _check_one(chosen, settings) and ok
        return ok

    if not run(go()):
        raise typer.Exit(1)


async def _check_one(seller: SellerConfig, settings: OzonSettings) -> bool:
    assert seller.ozon is not None
    console.print(f"[bold]{seller.id}[/] (Client-Id {seller.ozon.client_id})")
    try:
        client = make_client(seller, settings)
    except SettingsError as error:
        for problem in error.problems:
            errors.print(f"  {problem}", markup=False)
        return False
    try:
        roles = await client.roles()
    except OzonApiError as error:
        errors.print(f"  Ozon refused the key: {error.message}", markup=False)
        return False
    except OzonError as error:
        errors.print(f"  {error}", markup=False)
        return False
    finally:
        await client.close()
    allowed = {method for role in roles for method in role.methods}
    table = Table("role", "methods", "expires")
    for role in roles:
        expires = role.expires_at.strftime("%Y-%m-%d %H:%M UTC") if role.expires_at else "-"
        table.add_row(role.name, str(len(role.methods)), expires)
    console.print(table)
    ok = True
    for purpose, methods in NEEDED_METHODS.items():
        lacking = [m for m in methods if m not in allowed]
        if lacking:
            ok = False
            console.print(f"  [red]missing[/] for {purpose}: {', '.join(lacking)}")
        else:
            console.print(f"  [green]ok[/] {purpose}")
    return ok
