"""Pulling every Ozon seller's postings as orders (docs/ozon.md): once (`returndesk ozon sync`)
or every few minutes inside `returndesk run`.

Each page of postings is taken in by its own transaction, which also moves the seller's pull
past it (bot/services/ozon_orders.py); a pull cut short by an error, a crash or a restart resumes
from the page it had reached. One seller's failure is logged and noted and never stops the
others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config.settings import OzonSettings, SettingsError, ozon_api_key
from bot.config.shop import SellerConfig, ShopConfig
from bot.domain.claims import ClaimKeys
from bot.marketplaces.ozon import OzonApiError, OzonClient, OzonError, RetryPolicy
from bot.services import ozon_orders
from bot.storage.database import Database

log = logging.getLogger(__name__)
PAGE_SIZE = 100


@dataclass
class SellerSync:
    seller_id: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pages: int = 0
    resumed: bool = False
    set_aside: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def ozon_sellers(shop: ShopConfig) -> list[SellerConfig]:
    """The sellers whose Ozon postings are pulled."""
    return [s for s in shop.sellers if s.ozon is not None and s.ozon.sync_orders]


def make_client(seller: SellerConfig, settings: OzonSettings) -> OzonClient:
    """The seller's client; SettingsError when their API key is not set."""
    assert seller.ozon is not None
    return OzonClient(
        seller.ozon.client_id,
        ozon_api_key(seller.id).get_secret_value(),
        base_url=settings.api_url,
        retry=RetryPolicy(attempts=settings.attempts, timeout=settings.timeout),
    )


class OzonSync:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        shop: ShopConfig,
        settings: OzonSettings,
        keys: ClaimKeys | None,
        page_size: int = PAGE_SIZE,
        client_for: Callable[[SellerConfig], OzonClient] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.shop = shop
        self.settings = settings
        self.keys = keys
        self.page_size = page_size
        self._client_for = client_for or (lambda seller: make_client(seller, settings))
        self._clients: dict[str, OzonClient] = {}

    def client(self, seller: SellerConfig) -> OzonClient:
        if seller.id not in self._clients:
            self._clients[seller.id] = self._client_for(seller)
        return self._clients[seller.id]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def sync_all(self) -> list[SellerSync]:
        done = []
        for seller in ozon_sellers(self.shop):
            try:
                done.append(await self.sync_seller(seller))
            except Exception as error:
                # A seller's pull that broke (the database, a bug) is logged and noted; the
                # other sellers are still pulled.
                log.exception("Ozon sync of %s failed", seller.id)
                done.append(SellerSync(seller.id, error=f"{type(error).__name__}: {error}"))
        return done

    async def sync_seller(self, seller: SellerConfig) -> SellerSync:
        result = SellerSync(seller.id)
        try:
            await self._pull(seller, result)
        except (OzonError, SettingsError) as error:
            result.error = str(error)
            async with self.db.unit() as tx:
                await ozon_orders.failed(tx, seller.id, str(error), self.clock.now())
        if result.error:
            log.warning("Ozon sync of %s stopped, to resume next time: %s", seller.id, result.error)
        for record, reason in result.set_aside:
            log.warning("Ozon posting %s of %s set aside: %s", record, seller.id, reason)
        return result

    async def _pull(self, seller: SellerConfig, result: SellerSync) -> None:
        client = self.client(seller)
        sellers = {s.id for s in self.shop.sellers}
        async with self.db.unit() as tx:
            window = await ozon_orders.begin(
                tx,
                seller.id,
                self.clock.now(),
                first_sync_days=self.settings.first_sync_days,
                lookback_days=self.settings.lookback_days,
            )
        result.resumed = window.resumed
        cursor = window.cursor
        while True:
            try:
                page = await client.list_fbs_postings(
                    since=window.since,
                    to=window.to,
                    cursor=cursor,
                    limit=self.page_size,
                    changed_since=window.changed_since,
                )
            except OzonApiError as error:
                if not (cursor and error.status == 400 and "cursor" in error.message.lower()):
                    raise
                # The cursor kept across a restart has expired: the pull starts its window
                # again from the first page, which takes nothing in twice.
                log.info("Ozon refused the kept cursor of %s; starting its pull again", seller.id)
                async with self.db.unit() as tx:
                    await ozon_orders.restart_window(tx, seller.id, self.clock.now())
                cursor = ""
                continue
            async with self.db.unit() as tx:
                outcome = await ozon_orders.take_page(
                    tx, seller.id, page, now=self.clock.now(), sellers=sellers, keys=self.keys
                )
            result.pages += 1
            result.created += outcome.created
            result.updated += outcome.updated
            result.unchanged += outcome.unchanged
            result.set_aside += outcome.set_aside
            if not (page.has_next and page.cursor):
                return
            cursor = page.cursor

    async def run(self, stop: asyncio.Event, every_minutes: float) -> None:
        """Pull every `every_minutes` until `stop` is set; the first pull is at once."""
        every = every_minutes * 60
        while not stop.is_set():
            try:
                for done in await self.sync_all():
                    if done.created or done.updated or done.set_aside:
                        log.info(
                            "Ozon sync of %s: %s new, %s changed, %s set aside",
                            done.seller_id,
                            done.created,
                            done.updated,
                            len(done.set_aside),
                        )
            except Exception:
                log.exception("Ozon sync failed; trying again in %s min", every_minutes)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
