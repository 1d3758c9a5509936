"""`returndesk run` pulls Ozon postings as orders while it serves Telegram (docs/ozon.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_app
from bot.clock import FakeClock
from bot.config.settings import OzonSettings, TelegramSettings
from bot.marketplaces.ozon import OzonClient
from bot.runtime.ozon import OzonSync
from bot.runtime.telegram.service import TelegramService, make_adapter
from bot.storage.database import Database
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import Order
from bot.testing.botapi import FakeBotAPI
from bot.testing.ozon import FakeOzon
from bot.testing.telegram import UNLIMITED
from tests.ozon_samples import API_KEY, CLIENT_ID, posting, seller
from tests.test_ozon_sync import SHOP


async def test_the_running_bot_pulls_orders_every_few_minutes(
    db: Database,
    clock: FakeClock,
    server: FakeBotAPI,
    fake_ozon: FakeOzon,
    tmp_path: Path,
) -> None:
    shop = tmp_path / "shop.toml"
    shop.write_text(SHOP, encoding="utf-8")
    found = seller(fake_ozon)
    found.postings = [posting(1)]
    app = await build_app(db=db, config=shop, clock=clock, migrate=False)
    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=tmp_path)
    pulling = OzonSettings(api_url=fake_ozon.url, attempts=1, first_sync_days=60)
    ozon = OzonSync(
        db=app.db,
        clock=clock,
        shop=app.shop,
        settings=pulling,
        keys=None,
        client_for=lambda _: OzonClient(CLIENT_ID, API_KEY, base_url=fake_ozon.url),
    )
    service = TelegramService(
        app,
        make_adapter("aiogram", settings, LocalMediaStore(settings.media_dir)),
        settings,
        UNLIMITED,
        sweep_every=None,
        ozon=ozon,
        ozon_every=0.001,  # minutes
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        for _ in range(500):
            if len(fake_ozon.calls_to("/v4/posting/fbs/list")) >= 2:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await app.close()
    assert len(fake_ozon.calls_to("/v4/posting/fbs/list")) >= 2  # at start, then again
    async with db.reading() as tx:
        assert await tx.session.scalar(select(func.count()).select_from(Order)) == 1
