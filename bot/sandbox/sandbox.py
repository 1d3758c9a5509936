"""The engine with an in-memory messenger: what the demo, the terminal chat and the tests run."""

from __future__ import annotations

import itertools
from pathlib import Path

from bot.app import App, build_app
from bot.clock import Clock
from bot.delivery.limits import NoLimits
from bot.delivery.sender import Sender
from bot.engine.events import Incoming, Outcome
from bot.rendering import locale_for
from bot.sandbox.memory import MemoryTransport
from bot.sandbox.people import Participant
from bot.services.importer import ImportReport, import_orders
from bot.storage.database import Database


class Sandbox:
    def __init__(self, app: App) -> None:
        self.app = app
        self.transport = MemoryTransport()
        self.sender = Sender(
            db=app.db, transport=self.transport, clock=app.clock, limiter=NoLimits()
        )
        self._keys = itertools.count(1)
        self._photos = itertools.count(1)
        self.people: dict[int, Participant] = {}

    @classmethod
    async def open(
        cls,
        *,
        clock: Clock,
        database_url: str | None = None,
        db: Database | None = None,
        config: Path | None = None,
        migrate: bool = True,
    ) -> Sandbox:
        app = await build_app(
            database_url=database_url, db=db, config=config, clock=clock, migrate=migrate
        )
        return cls(app)

    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def clock(self) -> Clock:
        return self.app.clock

    def next_key(self) -> str:
        return f"sandbox:{next(self._keys)}"

    def next_photo(self) -> int:
        return next(self._photos)

    def person(self, user_id: int, name: str = "", language_code: str | None = None) -> Participant:
        """Someone who writes to the bot; `language_code` is what their Telegram app reports."""
        if user_id not in self.people:
            self.people[user_id] = Participant(
                self, user_id, name, language_code, locale=locale_for(language_code)
            )
        return self.people[user_id]

    async def process(self, event: Incoming) -> Outcome:
        outcome = await self.app.engine.process(event)
        await self.sender.drain()
        return outcome

    async def import_orders(self, path: Path) -> ImportReport:
        async with self.app.db.session() as session, session.begin():
            return await import_orders(session, path, shop=self.app.shop, now=self.clock.now())

    async def close(self) -> None:
        await self.app.close()
