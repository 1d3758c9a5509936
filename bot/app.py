"""Builds the pieces every entry point needs from settings: database, shop, renderer, clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.clock import Clock, SystemClock
from bot.config.settings import (
    DatabaseSettings,
    LinkSettings,
    MediaSettings,
    ShopSettings,
    TelegramSettings,
    read,
)
from bot.config.shop import ShopConfig, load_shop
from bot.domain.claims import ClaimKeys
from bot.engine.processor import Engine
from bot.rendering import Renderer
from bot.services import understanding
from bot.services.parties import sync_shop
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.local import LocalMediaStore
from handlers import build_router

log = logging.getLogger(__name__)


@dataclass
class App:
    db: Database
    shop: ShopConfig
    renderer: Renderer
    clock: Clock
    engine: Engine
    # Where buyers' photos are kept (RETURNDESK_MEDIA_BACKEND, docs/operations.md "Media").
    media: MediaStore
    # From RETURNDESK_LINK_SECRET; None: no links, and nothing can be claimed (docs/claiming.md).
    claim_keys: ClaimKeys | None = None

    async def close(self) -> None:
        await self.media.close()
        await self.db.dispose()


async def build_app(
    *,
    database_url: str | None = None,
    db: Database | None = None,
    config: Path | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    renderer: Renderer | None = None,
    media: MediaStore | None = None,
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
    return App(
        db=db,
        shop=shop,
        renderer=renderer,
        clock=clock,
        engine=engine,
        claim_keys=keys,
        media=media or open_media(read(MediaSettings), db, read(TelegramSettings).media_dir),
    )


def open_media(settings: MediaSettings, db: Database, folder: Path) -> MediaStore:
    """The store RETURNDESK_MEDIA_BACKEND names; nothing is reached until it is used."""
    if settings.backend == "database":
        return DatabaseMediaStore(db)
    if settings.backend == "s3":
        # Imported only when chosen: botocore takes a while to load.
        from bot.storage.media.s3 import S3MediaStore, S3Options

        assert settings.s3_bucket is not None  # the settings refuse s3 without one

        def secret(value: SecretStr | None) -> str | None:
            return (value.get_secret_value() or None) if value is not None else None

        return S3MediaStore(
            S3Options(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region or None,
                access_key_id=secret(settings.s3_access_key_id),
                secret_access_key=secret(settings.s3_secret_access_key),
                prefix=settings.s3_prefix,
                addressing_style=settings.s3_addressing_style,
            )
        )
    return LocalMediaStore(folder)
