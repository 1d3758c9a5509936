"""Ozon's returns and cancellations in the seller's chat (docs/ozon.md), against the fake Ozon
server, through the engine and both Telegram frameworks: a return opened on Ozon arrives as a
case, the seller's tap is carried out on Ozon, a partial refund is paid once across a crash,
a refusal marks the refund failed and tells the seller, a cancellation's approve and reject are
carried out, and one bad return is set aside while the others land."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config.settings import OzonSettings
from bot.domain.enums import CaseState, RefundStatus
from bot.domain.money import Money
from bot.runtime.ozon import OzonSync
from bot.runtime.ozon_desk import OzonDesk
from bot.sandbox.sandbox import EngineChannel
from bot.services import ozon_returns
from bot.storage.database import Database
from bot.storage.models import MarketplaceReject
from bot.testing.ozon import SERVER_ERROR, FakeCancellation, FakeOzon, FakeSeller
from bot.testing.ozon.data import Fault
from bot.testing.telegram import Mode, TelegramChannel
from tests.desk import DATA, TEST_SHOP, Desk
from tests.ozon_samples import API_KEY, CLIENT_ID, COMPENSATE, T0, posting, rfbs_return, seller

NUMBER = "0132112277-0001-1"


@pytest.fixture
def ozon_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test shop with Acme selling on Ozon."""
    monkeypatch.setenv("RETURNDESK_OZON_API_KEY_ACME", API_KEY)
    text = TEST_SHOP.read_text(encoding="utf-8")
    marker = 'policy = "policy.toml"\n'
    text = text.replace(marker, marker + f'\n[sellers.ozon]\nclient_id = "{CLIENT_ID}"\n', 1)
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    shutil.copyfile(DATA / "policy.toml", tmp_path / "policy.toml")
    return path


@pytest.fixture
async def odesk(
    db: Database, clock: FakeClock, tmp_path: Path, channel: str, ozon_shop: Path
) -> AsyncIterator[Desk]:
    clock.set(T0 + timedelta(days=2))
    if channel == "engine":
        desk = await Desk.open(db, clock, tmp_path, config=ozon_shop)
        yield desk
        await desk.close()
        return
    async with Desk.on_telegram(db, clock, tmp_path, Mode.parse(channel), config=ozon_shop) as d:
        yield d


class Ozon:
    """The order sync and the returns desk of the running bot, against the fake."""

    def __init__(self, desk: Desk, server: FakeOzon) -> None:
        app = desk.sandbox.app
        settings = OzonSettings(api_url=server.url, attempts=1, timeout=5)
        self.desk = desk
        self.sync = OzonSync(
            db=app.db, clock=app.clock, shop=app.shop, settings=settings, keys=None
        )
        self.returns = OzonDesk(
            db=app.db, clock=app.clock, engine=app.engine, shop=app.shop, settings=settings
        )

    async def run(self) -> None:
        await self.sync.sync_all()
        await self.returns.run_once()
        await self.settle()

    async def settle(self) -> None:
        channel = self.desk.sandbox.channel
        if isinstance(channel, EngineChannel):
            await channel.sender.drain()
        else:
            assert isinstance(channel, TelegramChannel)
            await channel.settled()

    async def close(self) -> None:
        await self.sync.close()
        await self.returns.close()


@pytest.fixture
async def ozon(odesk: Desk, fake_ozon: FakeOzon) -> AsyncIterator[Ozon]:
    made = Ozon(odesk, fake_ozon)
    yield made
    await made.close()


def account(server: FakeOzon) -> FakeSeller:
    """The fake's one seller account."""
    return server.sellers[0] if server.sellers else seller(server)


def _on_ozon(server: FakeOzon, *return_ids: int) -> None:
    acme = account(server)
    acme.postings.append(posting(1, status="delivered"))
    for return_id in return_ids:
        acme.rfbs_returns.append(rfbs_return(return_id, NUMBER))


async def _arrived(odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon) -> None:
    _on_ozon(fake_ozon, 77)
    await ozon.run()
    dora = odesk.staff("dora")
    card = dora.last.plain
    assert "A return opened on Ozon" in card
    assert "The buyer's reason on Ozon: Брак" in card
    assert "The buyer wrote: Ручка отломана" in card
    assert "https://cdn.example/photo1.jpg" in card
    assert dora.last.labels == [
        "Ozon: Одобрить",
        "Reject: Отклонить",
        "Partial refund, the buyer keeps it",
    ]


async def test_a_return_on_ozon_becomes_a_case_and_a_partial_refund_is_paid_there(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    case = await odesk.latest_case()
    assert case.buyer_id is None  # the buyer is on Ozon, not in Telegram
    assert case.state is CaseState.AWAITING_SELLER
    await ozon.run()  # read again: still one case
    assert len(await odesk.cases()) == 1

    dora = odesk.staff("dora")
    await dora.click("Partial refund, the buyer keeps it")
    assert "How much do you pay back on case" in dora.last.plain
    await dora.send("500")
    assert 'Sent to Ozon: "Компенсация" with RUB500.00' in dora.last.plain
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.APPROVED

    await ozon.run()
    taken = account(fake_ozon).rfbs_returns[0].actions_taken
    assert taken == [{"return_id": 77, "id": COMPENSATE, "compensation_amount": 500.0}]
    assert "Done on Ozon: RUB500.00 paid back on case" in dora.last.plain
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.EXECUTED
    assert await odesk.refunded(NUMBER) == Money.of("500", "RUB")
    assert (await odesk.latest_case()).state is CaseState.RESOLVED


async def test_a_rejection_is_sent_with_ozons_reason_and_the_sellers_comment(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    dora = odesk.staff("dora")
    await dora.click("Reject: Отклонить")
    assert dora.last.labels == ["Товар не бракованный"]
    await dora.click("Товар не бракованный")
    await dora.send("The handle was glued, not broken")
    await ozon.run()
    (taken,) = account(fake_ozon).rfbs_returns[0].actions_taken
    assert taken["rejection_reason_id"] == 7
    assert taken["comment"] == "The handle was glued, not broken"
    assert "Done on Ozon: the return on case" in dora.last.plain
    assert (await odesk.latest_case()).state is CaseState.CLOSED
    assert await odesk.refunds(NUMBER) == []


async def test_an_approval_offers_the_next_actions(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    dora = odesk.staff("dora")
    await dora.click("Ozon: Одобрить")
    await ozon.run()
    assert dora.last.labels == ["Ozon: Товар получен"]  # the card again, with what Ozon offers
    assert (await odesk.latest_case()).state is CaseState.AWAITING_SELLER


async def test_a_crash_after_the_call_never_pays_twice(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    dora = odesk.staff("dora")
    await dora.click("Partial refund, the buyer keeps it")
    await dora.send("500")

    real = ozon_returns.outcome

    async def crash(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("killed after the call, before the recording")

    monkeypatch.setattr(ozon_returns, "outcome", crash)
    with pytest.raises(RuntimeError):
        await ozon.returns.run_once()
    assert len(account(fake_ozon).rfbs_returns[0].actions_taken) == 1  # paid on Ozon
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.APPROVED  # not recorded yet

    monkeypatch.setattr(ozon_returns, "outcome", real)
    await ozon.run()  # the retry looks the return up first
    assert len(account(fake_ozon).rfbs_returns[0].actions_taken) == 1  # not paid again
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.EXECUTED
    assert await odesk.refunded(NUMBER) == Money.of("500", "RUB")
    assert "Done on Ozon: RUB500.00 paid back" in dora.last.plain
    await ozon.run()
    assert len(account(fake_ozon).rfbs_returns[0].actions_taken) == 1


async def test_a_refusal_marks_the_refund_failed_and_tells_the_seller(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    dora = odesk.staff("dora")
    await dora.click("Partial refund, the buyer keeps it")
    await dora.send("500")
    fake_ozon.fail(
        Fault(400, 3, "compensation is more than the item's price"),
        method="/v1/returns/rfbs/action/set",
    )
    await ozon.run()
    told = [m.plain for m in dora.inbox[-2:]]
    assert any(
        "Ozon refused the refund of RUB500.00" in t
        and "compensation is more than the item's price" in t
        for t in told
    )
    assert dora.last.labels[-1] == "Partial refund, the buyer keeps it"  # decide again
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.FAILED
    assert refund.note == "compensation is more than the item's price"
    assert await odesk.refunded(NUMBER) == Money.of("0", "RUB")
    assert account(fake_ozon).rfbs_returns[0].actions_taken == []
    assert (await odesk.latest_case()).state is CaseState.AWAITING_SELLER


async def test_a_cancellation_card_and_its_approve_and_reject(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    acme = account(fake_ozon)
    acme.postings.append(posting(1))
    acme.postings.append(posting(2))
    for n in (1, 2):
        acme.cancellations.append(
            FakeCancellation(
                cancellation_id=500 + n,
                posting_number=f"0132112277-{n:04d}-1",
                cancelled_at=T0 + timedelta(days=1),
                reason_message="Передумал",
                auto_approve_date=T0 + timedelta(days=3, hours=3),
            )
        )
    await ozon.run()
    dora = odesk.staff("dora")
    first, second = [m for m in dora.inbox if "a request to cancel" in m.plain]
    assert "posting 0132112277-0001-1" in first.plain
    assert "Покупатель передумал — Передумал" in first.plain
    assert "Ozon approves it by itself on Fri, Nov 13 13:00" in first.plain  # Berlin time
    await dora.click("Approve the cancellation", message=first)
    await dora.click("Reject, deliver it", message=second)
    await ozon.run()
    assert [c.cancellation_state for c in acme.cancellations] == ["APPROVED", "REJECTED"]
    done = [m.plain for m in dora.inbox if m.plain.startswith("Done on Ozon")]
    assert any("0132112277-0001-1 is approved" in t for t in done)
    assert any("0132112277-0002-1 is rejected" in t for t in done)
    await dora.click("Approve the cancellation", message=first)
    assert "was decided already" in dora.last.plain
    await ozon.run()
    assert len(fake_ozon.calls_to("/v2/conditional-cancellation/approve")) == 1


async def test_a_bad_return_is_set_aside_while_the_others_land(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    _on_ozon(fake_ozon, 77)
    account(fake_ozon).rfbs_returns.append(rfbs_return(78, "9999999999-0001-1"))
    unreadable = rfbs_return(79, NUMBER)
    unreadable.available_actions = [("approve", "Одобрить")]  # type: ignore[list-item]
    account(fake_ozon).rfbs_returns.append(unreadable)
    await ozon.run()
    assert len(await odesk.cases()) == 1
    async with odesk.db.reading() as tx:
        rejects = list(await tx.session.scalars(select(MarketplaceReject)))
    assert [r.record for r in rejects] == ["return:78", "return:79"]
    assert "no order 9999999999-0001-1" in rejects[0].reason
    assert "expected a whole number" in rejects[1].reason
    assert "A return opened on Ozon (return 77" in odesk.staff("dora").last.plain


async def test_fbo_fbs_returns_are_shown_read_only(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    from bot.testing.ozon.data import FakeProduct, FakeReturn

    account(fake_ozon).returns.append(
        FakeReturn(
            id=4001,
            posting_number="0132112277-0009-1",
            order_number="0132112277-0009",
            product=FakeProduct(sku=1, offer_id="X", name="Чашка"),
            return_reason_name="Не подошел",
        )
    )
    await ozon.run()
    dora = odesk.staff("dora")
    await dora.send("/ozon_returns")
    assert "0132112277-0009-1 (FBS) · Чашка · На согласовании у продавца" in dora.last.plain


async def test_nobody_but_the_bot_and_the_sellers_deciders_acts_on_an_ozon_return(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    anna, li = odesk.buyer("anna"), odesk.staff("li")
    for person in (anna, li):
        await person.send("/start")  # a message of the bot's to press a forged button on
        for payload in ("zri:1", "zrd:1:1", "zci:1", "zcd:1", "zra:1:10", "zrr:1:-1:7"):
            await person.press(payload)
    await ozon.run()
    assert account(fake_ozon).rfbs_returns[0].actions_taken == []
    assert (await odesk.latest_case()).state is CaseState.AWAITING_SELLER
    assert not any("went wrong" in m.plain for m in anna.inbox + li.inbox)
    assert all("Done on Ozon" not in m.plain for m in odesk.staff("dora").inbox)


async def test_ozon_failing_leaves_the_decision_waiting_and_it_is_paid_once_later(
    odesk: Desk, ozon: Ozon, fake_ozon: FakeOzon
) -> None:
    await _arrived(odesk, ozon, fake_ozon)
    dora = odesk.staff("dora")
    await dora.click("Partial refund, the buyer keeps it")
    await dora.send("500")
    fake_ozon.fail(SERVER_ERROR, method="/v1/returns/rfbs/action/set")
    await ozon.run()
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.APPROVED  # neither paid nor failed: tried again
    assert account(fake_ozon).rfbs_returns[0].actions_taken == []
    await ozon.run()
    assert len(account(fake_ozon).rfbs_returns[0].actions_taken) == 1
    (refund,) = await odesk.refunds(NUMBER)
    assert refund.status is RefundStatus.EXECUTED
    assert "Done on Ozon: RUB500.00 paid back" in dora.last.plain
