"""Builds the pieces every entry point needs from settings: database, shop, renderer, clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock, SystemClock
from bot.config.settings import DatabaseSettings, ShopSettings, read
from bot.config.shop import ShopConfig, load_shop
from bot.engine.processor import Engine
from bot.rendering import Renderer
from bot.services.parties import sync_shop
from bot.storage.database import Database
from handlers import build_router


@dataclass
class App:
    db: Database
    shop: ShopConfig
    renderer: Renderer
    clock: Clock
    engine: Engine

    async def close(self) -> None:
        await self.db.dispose()


async def build_app(
    *,
    database_url: str | None = None,
    db: Database | None = None,
    config: Path | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> App:
    """Load the shop file, open the database, bring its schema up to date and mirror the shop."""
    shop = load_shop(config or read(ShopSettings).config)
    if db is None:
        settings = read(DatabaseSettings)
        db = Database(database_url or settings.url, echo=settings.echo)
    if migrate:
        await db.upgrade()
    async with db.unit() as tx:
        await sync_shop(tx, shop)
    renderer = Renderer()
    clock = clock or SystemClock()
    engine = Engine(db=db, clock=clock, renderer=renderer, shop=shop, router=build_router())
    return App(db=db, shop=shop, renderer=renderer, clock=clock, engine=engine)
