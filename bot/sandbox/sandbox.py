"""The engine with an in-memory messenger, a database, a clock and a shop."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from bot.clock import Clock, FakeClock
from bot.config.shop import ShopConfig, load_shop
from bot.delivery.limits import NoLimits
from bot.delivery.sender import Sender
from bot.engine.events import Incoming, Outcome
from bot.engine.processor import Engine
from bot.rendering import Renderer
from bot.sandbox.memory import MemoryTransport
from bot.sandbox.people import Participant
from bot.services.parties import sync_shop
from bot.storage.database import Database
from handlers import build_router


class Sandbox:
    def __init__(
        self, *, db: Database, clock: Clock, shop: ShopConfig, renderer: Renderer | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.shop = shop
        self.transport = MemoryTransport()
        self.engine = Engine(
            db=db, clock=clock, renderer=renderer or Renderer(), shop=shop, router=build_router()
        )
        self.sender = Sender(db=db, transport=self.transport, clock=clock, limiter=NoLimits())
        self._keys = itertools.count(1)
        self.people: dict[int, Participant] = {}

    @classmethod
    async def open(
        cls,
        db: Database,
        *,
        shop: ShopConfig | None = None,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> Sandbox:
        shop = shop or load_shop()
        if migrate:
            await db.upgrade()
        async with db.session() as session, session.begin():
            await sync_shop(session, shop)
        return cls(
            db=db,
            clock=clock or FakeClock(datetime.fromisoformat("2026-11-16T06:00:00+00:00")),
            shop=shop,
        )

    def next_key(self) -> str:
        return f"sandbox:{next(self._keys)}"

    def person(self, user_id: int, name: str = "", language_code: str | None = None) -> Participant:
        if user_id not in self.people:
            self.people[user_id] = Participant(self, user_id, name, language_code)
        return self.people[user_id]

    async def process(self, event: Incoming) -> Outcome:
        outcome = await self.engine.process(event)
        await self.sender.drain()
        return outcome

    async def import_orders(self, path: Path) -> object:
        from bot.services.importer import import_orders

        async with self.db.session() as session, session.begin():
            return await import_orders(session, path, shop=self.shop, now=self.clock.now())
