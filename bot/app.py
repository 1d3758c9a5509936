"""Builds the pieces every entry point needs from settings: database, shop, renderer, clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock, SystemClock
from bot.config.settings import DatabaseSettings, LinkSettings, ShopSettings, read
from bot.config.shop import ShopConfig, load_shop
from bot.domain.claims import ClaimKeys
from bot.engine.processor import Engine
from bot.rendering import Renderer
from bot.services import understanding
from bot.services.parties import sync_shop
from bot.storage.database import Database
from handlers import build_router

log = logging.getLogger(__name__)


@dataclass
class App:
    db: Database
    shop: ShopConfig
    renderer: Renderer
    clock: Clock
    engine: Engine
    # From RETURNDESK_LINK_SECRET; None: no links, and nothing can be claimed (docs/claiming.md).
    claim_keys: ClaimKeys | None = None

    async def close(self) -> None:
        await self.db.dispose()


async def build_app(
    *,
    database_url: str | None = None,
    db: Database | None = None,
    config: Path | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    renderer: Renderer | None = None,
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
    renderer = renderer or Renderer()
    understanding.warm()
    clock = clock or SystemClock()
    secret = read(LinkSettings).secret
    if secret is None:
        log.info(
            "RETURNDESK_LINK_SECRET is not set: orders without a Telegram id cannot be claimed"
        )
    keys = None if secret is None else ClaimKeys(secret.get_secret_value().encode())
    engine = Engine(
        db=db, clock=clock, renderer=renderer, shop=shop, router=build_router(), claim_keys=keys
    )
    return App(db=db, shop=shop, renderer=renderer, clock=clock, engine=engine, claim_keys=keys)
