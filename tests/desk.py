"""The test desk: the sandbox with the test shop, its people, and ways to set up orders and
look at what the database recorded."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.money import Money
from bot.rendering import Reader
from bot.runtime.sweeper import Sweep, Sweeper
from bot.sandbox import Delivered, Participant, Sandbox
from bot.sandbox.sandbox import EngineChannel
from bot.services.importer import ImportReport
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import AuditEntry, Case, Offer, Order, Promise, Refund, SupportTopic
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, TelegramChannel, running_bot

DATA = Path(__file__).parent / "data"
TEST_SHOP = DATA / "shop.toml"


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    language_code: str
    timezone: str = "UTC"


BUYERS = {
    "anna": Person(101, "Anna", "en", "Europe/Berlin"),
    "ivan": Person(102, "Иван", "ru", "Europe/Moscow"),
    "mallory": Person(103, "Mallory", "en", "America/New_York"),
}
STAFF = {
    "dora": Person(501, "Dora", "en"),
    "dmitri": Person(502, "Dmitri", "en"),
    "li": Person(601, "Li Wei", "zh"),
    "nina": Person(701, "Nina", "en"),
    "sam": Person(901, "Sam", "en"),
}


def shop_without_support_group(folder: Path) -> Path:
    """The test shop with its `[support] chat_id` line taken out (members work the desk from
    their private chats), written to `folder` beside a copy of its policy."""
    text, removed = re.subn(r"^chat_id = .*\n", "", TEST_SHOP.read_text(), flags=re.MULTILINE)
    assert removed == 1
    shop = folder / "shop.toml"
    shop.write_text(text, encoding="utf-8")
    shutil.copyfile(DATA / "policy.toml", folder / "policy.toml")
    return shop


class Desk:
    def __init__(self, sandbox: Sandbox, clock: FakeClock, workdir: Path) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.workdir = workdir
        self._numbers = itertools.count(1001)
        self._files = itertools.count(1)

    @classmethod
    async def open(
        cls,
        db: Database,
        clock: FakeClock,
        workdir: Path,
        config: Path = TEST_SHOP,
        *,
        media: MediaStore | None = None,
    ) -> Desk:
        """The desk on the engine; photos people send are kept in `media`, or only named."""
        sandbox = await Sandbox.open(db=db, clock=clock, config=config, migrate=False, media=media)
        return cls(sandbox, clock, workdir)

    @classmethod
    @asynccontextmanager
    async def on_telegram(
        cls,
        db: Database,
        clock: FakeClock,
        workdir: Path,
        mode: Mode,
        config: Path = TEST_SHOP,
        *,
        media: MediaStore | None = None,
        **options: Any,
    ) -> AsyncIterator[Desk]:
        """The desk with the bot running on a fake Bot API server, reached as Telegram users;
        photos are kept in `media`, or in the folder media/ of `workdir`."""
        media = media or LocalMediaStore(workdir / "media")
        app = await build_app(db=db, config=config, clock=clock, migrate=False, media=media)
        try:
            async with (
                FakeBotAPI() as server,
                running_bot(app, server, mode, media_dir=workdir / "media", media=media, **options),
            ):
                yield cls(Sandbox(app, TelegramChannel(app, server)), clock, workdir)
        finally:
            await app.close()

    async def close(self) -> None:
        await self.sandbox.close()

    @property
    def db(self) -> Database:
        return self.sandbox.db

    @property
    def telegram(self) -> TelegramChannel:
        """The channel of a desk opened with `on_telegram`, and through it the Bot API server."""
        channel = self.sandbox.channel
        assert isinstance(channel, TelegramChannel)
        return channel

    async def deliver(self) -> None:
        """Deliver the outbox (after driving the engine directly, not through a person)."""
        channel = self.sandbox.channel
        assert isinstance(channel, EngineChannel)
        await channel.sender.drain()

    # -- people ------------------------------------------------------------------------------
    def buyer(self, key: str) -> Participant:
        person = BUYERS[key]
        return self.sandbox.person(person.user_id, person.name, person.language_code)

    def staff(self, key: str) -> Participant:
        person = STAFF[key]
        return self.sandbox.person(person.user_id, person.name, person.language_code)

    # -- orders ------------------------------------------------------------------------------
    async def order(
        self,
        buyer: str = "anna",
        *,
        items: list[tuple[str, int, str]] | None = None,
        status: str = "delivered",
        delivered_days_ago: int = 3,
        currency: str = "RUB",
        paid: str | None = None,
        shipping: str = "0",
        seller: str = "acme",
        number: str | None = None,
    ) -> Order:
        """Import one order for `buyer` and return it. Items are (title, quantity, unit price)."""
        items = items or [("Kettle", 1, "2000")]
        number = number or f"A-{next(self._numbers)}"
        person = BUYERS[buyer]
        now = self.clock.now()
        total = sum(Decimal(price) * quantity for _, quantity, price in items)
        raw: dict[str, Any] = {
            "marketplace": "ozon",
            "number": number,
            "seller": seller,
            "buyer": {
                "telegram_id": person.user_id,
                "name": person.name,
                "language": person.language_code,
                "timezone": person.timezone,
            },
            "currency": currency,
            "paid": paid or str(total),
            "shipping": shipping,
            "status": status,
            "placed_at": (now - timedelta(days=delivered_days_ago + 7)).isoformat(),
            "items": [
                {"sku": f"SKU-{i}", "title": title, "quantity": quantity, "unit_price": price}
                for i, (title, quantity, price) in enumerate(items, start=1)
            ],
        }
        if status in ("shipped", "in_transit", "delivered", "completed"):
            raw["shipped_at"] = (now - timedelta(days=delivered_days_ago + 5)).isoformat()
        if status in ("delivered", "completed"):
            raw["delivered_at"] = (now - timedelta(days=delivered_days_ago)).isoformat()
        report = await self.import_raw([raw])
        assert report.ok, report.problems
        return await self.get_order(number)

    async def import_raw(self, orders: list[dict[str, Any]], suffix: str = ".json") -> ImportReport:
        path = self.workdir / f"orders-{next(self._files)}{suffix}"
        path.write_text(json.dumps({"orders": orders}), encoding="utf-8")
        return await self.sandbox.import_orders(path)

    # -- what the database says --------------------------------------------------------------
    async def get_order(self, number: str) -> Order:
        async with self.db.session() as session:
            order = await session.scalar(select(Order).where(Order.number == number))
            assert order is not None, number
            return order

    async def latest_case(self) -> Case:
        async with self.db.session() as session:
            case = await session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
            assert case is not None, "no case was opened"
            return case

    async def cases(self) -> list[Case]:
        async with self.db.session() as session:
            return list(await session.scalars(select(Case).order_by(Case.id)))

    async def refunds(self, number: str | None = None) -> list[Refund]:
        async with self.db.session() as session:
            query = select(Refund).order_by(Refund.id)
            if number is not None:
                query = query.join(Order, Refund.order_id == Order.id).where(Order.number == number)
            return list(await session.scalars(query))

    async def refunded(self, number: str) -> Money:
        return (await self.get_order(number)).refunded

    async def offers(self, case_id: int) -> list[Offer]:
        async with self.db.session() as session:
            return list(
                await session.scalars(
                    select(Offer).where(Offer.case_id == case_id).order_by(Offer.id)
                )
            )

    async def promises(self, case_id: int) -> list[Promise]:
        async with self.db.session() as session:
            return list(
                await session.scalars(
                    select(Promise).where(Promise.case_id == case_id).order_by(Promise.id)
                )
            )

    async def audit(self) -> list[AuditEntry]:
        async with self.db.session() as session:
            return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))

    async def topic(self, case_id: int) -> tuple[int, int]:
        """The support group and thread of a case's topic."""
        async with self.db.session() as session:
            topic = await session.get(SupportTopic, case_id)
        assert topic is not None and topic.thread_id is not None, f"case {case_id} has no topic"
        return topic.chat_id, topic.thread_id

    async def topic_name(self, case_id: int) -> str:
        """The name the topic has in the messenger (not only what the database wanted)."""
        chat, thread = await self.topic(case_id)
        channel = self.sandbox.channel
        if isinstance(channel, EngineChannel):
            return channel.transport.topic(chat, thread).name
        assert isinstance(channel, TelegramChannel)
        return channel.server.topics[chat, thread].name

    async def in_topic(self, case_id: int) -> list[Delivered]:
        chat, thread = await self.topic(case_id)
        return [m for m in self.sandbox.channel.inbox(chat) if m.thread_id == thread]

    async def sweep(self) -> Sweep:
        """One pass of the sweeper, and everything it owes delivered."""
        app = self.sandbox.app
        done = await Sweeper(db=app.db, clock=app.clock, engine=app.engine).sweep()
        channel = self.sandbox.channel
        if isinstance(channel, EngineChannel):
            await channel.sender.drain()
        else:
            assert isinstance(channel, TelegramChannel)
            await channel.settled()
        return done

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def text(self, template: str, locale: str, /, **variables: object) -> str:
        """A template as a reader of `locale` would see it, for comparing answers."""
        return self.sandbox.app.renderer.render(template, Reader(locale), **variables)

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)


async def open_flow(person: Participant, flow: str, order: Order | str) -> None:
    """/start, the menu entry for `flow` (problem, return, cancel), then the order's button."""
    number = order if isinstance(order, str) else order.number
    await person.send("/start")
    await person.tap(f"menu_{flow}")
    await person.click(f"#{number}")
