"""Ozon postings pulled as orders (docs/ozon.md): through the import's upsert, idempotent,
resuming from its cursor after a restart, a bad posting set aside while the others land."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config.settings import OzonSettings
from bot.config.shop import ShopConfig, load_shop
from bot.domain.enums import OrderStatus
from bot.runtime.ozon import OzonSync
from bot.services import ozon_orders, parties
from bot.storage.database import Database
from bot.storage.models import MarketplaceReject, Order
from bot.testing.ozon import SERVER_ERROR, FakeOzon, FakeProduct
from tests.conftest import POSTGRES_URL
from tests.ozon_samples import API_KEY, CLIENT_ID, T0, posting, seller

SHOP = f"""
[[sellers]]
id = "acme"
name = "Acme"

[[sellers.deciders]]
telegram_id = 300001

[sellers.ozon]
client_id = "{CLIENT_ID}"

[[sellers]]
id = "plain"
name = "No Ozon here"

[[sellers.deciders]]
telegram_id = 300002
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ShopConfig:
    monkeypatch.setenv("RETURNDESK_OZON_API_KEY_ACME", API_KEY)
    path = tmp_path / "shop.toml"
    path.write_text(SHOP, encoding="utf-8")
    return load_shop(path)


@pytest.fixture
async def synced_shop(db: Database, shop: ShopConfig) -> ShopConfig:
    async with db.unit() as tx:
        await parties.sync_shop(tx, shop)
    return shop


@pytest.fixture
def ozon_clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=2))


def syncer(
    db: Database, shop: ShopConfig, server: FakeOzon, clock: FakeClock, *, attempts: int = 1
) -> OzonSync:
    settings = OzonSettings(api_url=server.url, attempts=attempts, timeout=5)
    return OzonSync(db=db, clock=clock, shop=shop, settings=settings, keys=None, page_size=2)


@pytest.fixture
async def sync(
    db: Database, synced_shop: ShopConfig, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> AsyncIterator[OzonSync]:
    made = syncer(db, synced_shop, fake_ozon, ozon_clock)
    yield made
    await made.close()


def reopened(db: Database) -> Database:
    """Another Database on the same data, as a new process would open it."""
    if db.is_sqlite:
        return Database(db.url.render_as_string(hide_password=False))
    return Database(POSTGRES_URL, schema=db.schema)


async def orders(db: Database) -> list[Order]:
    async with db.reading() as tx:
        return list(await tx.session.scalars(select(Order).order_by(Order.number)))


async def test_postings_land_as_orders_with_their_items_and_exact_prices(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon
) -> None:
    seller(fake_ozon).postings = [
        posting(1, tracking_number="RR123456785RU", customer_name="Иван Петров"),
        posting(2, status="delivering", delivering_date=T0 + timedelta(days=1)),
    ]
    [done] = await sync.sync_all()
    assert (done.seller_id, done.created, done.error) == ("acme", 2, None)
    first, second = await orders(db)
    assert first.marketplace == "ozon"
    assert first.number == "0132112277-0001-1"
    assert first.order_number == "0132112277-0001"
    assert first.marketplace_status == "awaiting_packaging"
    assert first.status == OrderStatus.CONFIRMED
    assert first.placed_at == T0 + timedelta(hours=1)
    assert first.tracking_number == "RR123456785RU"
    assert first.buyer_name == "Иван Петров"
    assert first.currency == "RUB"
    assert first.paid_total.amount == Decimal("2580.20")
    [item] = first.items
    assert (item.sku, item.offer_id, item.title, item.quantity) == ("900001", "MUG-1", "Кружка", 2)
    assert item.unit_price_minor == 129010
    assert second.status == OrderStatus.IN_TRANSIT
    assert second.shipped_at == T0 + timedelta(days=1)


async def test_a_second_sync_duplicates_nothing_and_takes_in_changes(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> None:
    found = seller(fake_ozon)
    found.postings = [posting(n) for n in range(1, 4)]
    await sync.sync_all()
    [again] = await sync.sync_all()
    assert (again.created, again.updated) == (0, 0)
    ozon_clock.advance(timedelta(hours=3))
    found.postings[0].status = "delivered"
    found.postings[0].status_changed_at = ozon_clock.now()
    found.postings.append(posting(4, in_process_at=ozon_clock.now() - timedelta(minutes=1)))
    [changed] = await sync.sync_all()
    assert (changed.created, changed.updated) == (1, 1)
    body = fake_ozon.calls_to("/v4/posting/fbs/list")[-1].body
    assert body["filter"]["last_changed_status_date"]["from"]  # only what changed since
    delivered = (await orders(db))[0]
    assert delivered.status == OrderStatus.DELIVERED
    assert delivered.delivered_at == ozon_clock.now()
    ozon_clock.advance(timedelta(hours=1))
    found.postings[0].status_changed_at = ozon_clock.now()  # seen again: nothing moves
    [still] = await sync.sync_all()
    # The first posting, and the fourth, placed within the overlap of the pull before.
    assert (still.created, still.updated, still.unchanged) == (0, 0, 2)
    assert len(await orders(db)) == 4


async def test_a_pull_cut_short_resumes_from_its_cursor_in_a_new_process(
    db: Database, synced_shop: ShopConfig, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> None:
    seller(fake_ozon).postings = [posting(n) for n in range(1, 6)]
    fake_ozon.fail(SERVER_ERROR, times=1, method="/v4/posting/fbs/list", after=1)
    first = syncer(db, synced_shop, fake_ozon, ozon_clock)
    [cut] = await first.sync_all()
    await first.close()
    assert cut.created == 2
    assert cut.error is not None
    assert "HTTP 500" in cut.error
    kept_cursor = fake_ozon.calls_to("/v4/posting/fbs/list")[1].body["cursor"]
    async with db.reading() as tx:
        state = await ozon_orders.sync_state(tx, "acme")
        assert state is not None
        assert state.cursor == kept_cursor
        assert state.last_error is not None

    other_db = reopened(db)
    try:
        second = syncer(other_db, synced_shop, fake_ozon, ozon_clock)
        [resumed] = await second.sync_all()
        await second.close()
        assert resumed.resumed
        assert (resumed.created, resumed.error) == (3, None)
        calls = fake_ozon.calls_to("/v4/posting/fbs/list")
        assert calls[2].body["cursor"] == kept_cursor
        assert calls[2].body["filter"] == calls[0].body["filter"]  # the same window
        numbers = [o.number for o in await orders(other_db)]
        assert numbers == sorted({f"0132112277-{n:04d}-1" for n in range(1, 6)})
        async with other_db.reading() as tx:
            state = await ozon_orders.sync_state(tx, "acme")
            assert state is not None
            assert state.cursor is None
            assert state.synced_until == ozon_clock.now()
            assert state.last_error is None
    finally:
        await other_db.dispose()


async def test_a_bad_posting_is_set_aside_and_the_others_land(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> None:
    found = seller(fake_ozon)
    unpriced = posting(2, customer_name="Иван Петров")
    unpriced.products = [FakeProduct(sku=1, offer_id="X", name="X", price="not a price")]
    found.postings = [posting(1), unpriced, posting(3, status="teleported")]
    [done] = await sync.sync_all()
    assert done.created == 1
    assert dict(done.set_aside) == {
        "0132112277-0002-1": "products[0].price.amount: 'not a price' is not an amount",
        "0132112277-0003-1": "status 'teleported' is not one Ozon documents",
    }
    async with db.reading() as tx:
        aside = await ozon_orders.set_aside(tx, "acme")
    assert [r.record for r in aside] == ["0132112277-0002-1", "0132112277-0003-1"]
    assert aside[0].data["posting_number"] == "0132112277-0002-1"
    assert "customer" not in aside[0].data  # the buyer's name and address are not kept

    ozon_clock.advance(timedelta(hours=1))
    unpriced.products = [FakeProduct(sku=1, offer_id="X", name="X", price="10.00")]
    unpriced.status_changed_at = ozon_clock.now()
    [fixed] = await sync.sync_all()
    assert fixed.created == 1
    async with db.reading() as tx:
        left = await tx.session.scalars(select(MarketplaceReject.record))
        assert list(left) == ["0132112277-0003-1"]
        assert await tx.session.scalar(select(func.count()).select_from(Order)) == 2


async def test_a_seller_without_a_key_is_told_and_the_others_go_on(
    db: Database,
    synced_shop: ShopConfig,
    fake_ozon: FakeOzon,
    ozon_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RETURNDESK_OZON_API_KEY_ACME")
    monkeypatch.chdir(Path(__file__).parent)  # no .env there
    made = syncer(db, synced_shop, fake_ozon, ozon_clock)
    [done] = await made.sync_all()
    assert done.error is not None
    assert "RETURNDESK_OZON_API_KEY_ACME" in done.error
    assert fake_ozon.calls == []


async def test_a_refused_key_stops_the_pull_with_ozons_message(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon
) -> None:
    fake_ozon.seller(CLIENT_ID, "another key")
    [done] = await sync.sync_all()
    assert done.error is not None
    assert "Invalid Api-Key" in done.error


async def test_the_runtime_task_pulls_again_until_stopped(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> None:
    import asyncio

    found = seller(fake_ozon)
    found.postings = [posting(1)]
    stop = asyncio.Event()
    task = asyncio.create_task(sync.run(stop, every_minutes=0.001))
    for _ in range(200):
        if len(fake_ozon.calls_to("/v4/posting/fbs/list")) >= 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(fake_ozon.calls_to("/v4/posting/fbs/list")) >= 2
    assert len(await orders(db)) == 1


async def test_a_pulled_order_is_found_by_the_number_its_buyer_sees(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon
) -> None:
    from bot.services.orders import orders_by_number

    seller(fake_ozon).postings = [posting(1)]
    await sync.sync_all()
    async with db.reading() as tx:
        by_order = await orders_by_number(tx, "0132112277-0001")
        by_posting = await orders_by_number(tx, "0132112277-0001-1")
    assert [o.number for o in by_order] == ["0132112277-0001-1"]
    assert [o.number for o in by_posting] == ["0132112277-0001-1"]


async def test_a_kept_cursor_ozon_no_longer_takes_starts_the_window_again(
    db: Database, sync: OzonSync, fake_ozon: FakeOzon, ozon_clock: FakeClock
) -> None:
    seller(fake_ozon).postings = [posting(n) for n in range(1, 4)]
    async with db.unit() as tx:
        await ozon_orders.begin(tx, "acme", ozon_clock.now(), first_sync_days=30, lookback_days=90)
        state = await ozon_orders.sync_state(tx, "acme")
        assert state is not None
        state.cursor = "expired-cursor"
    [done] = await sync.sync_all()
    assert (done.resumed, done.created, done.error) == (True, 3, None)
    bodies = [c.body for c in fake_ozon.calls_to("/v4/posting/fbs/list")]
    assert bodies[0]["cursor"] == "expired-cursor"
    assert "cursor" not in bodies[1]
    assert bodies[1]["filter"] == bodies[0]["filter"]
