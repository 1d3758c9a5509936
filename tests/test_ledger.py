"""The refund ledger can never pay back more than was paid: not by mistake, not by a replay,
not by two people at once (docs/design.md#exact-money)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.domain.enums import OfferStatus, Reason, RefundStatus
from bot.domain.money import Money
from bot.engine.events import Incoming
from bot.services import ledger
from bot.storage.database import Database
from bot.storage.models import Order, Refund
from bot.storage.transaction import Transaction
from tests.conftest import START
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow


async def approve(db: Database, order_id: int, amount: str, key: str) -> Money | None:
    """One refund in its own transaction, as one update would do it."""
    async with db.session() as session, session.begin():
        try:
            return await ledger.approve_refund(
                Transaction.of(session),
                order_id=order_id,
                amount=Money.of(amount, "RUB"),
                reason=Reason.DEFECT,
                key=key,
                now=START,
            )
        except ledger.OverRefundError:
            return None


async def test_an_over_refund_is_refused_and_nothing_is_recorded(desk: Desk) -> None:
    order = await desk.order(items=[("Kettle", 1, "1000")], shipping="100")
    assert await approve(desk.db, order.id, "800", "a") == Money.of("800", "RUB")
    assert await approve(desk.db, order.id, "300.01", "b") is None
    assert await approve(desk.db, order.id, "300", "c") == Money.of("300", "RUB")
    assert await desk.refunded(order.number) == Money.of("1100", "RUB")
    assert await approve(desk.db, order.id, "0.01", "d") is None
    assert [r.idempotency_key for r in await desk.refunds(order.number)] == ["a", "c"]


async def test_the_same_key_twice_records_one_refund(desk: Desk) -> None:
    order = await desk.order(items=[("Kettle", 1, "1000")])
    assert await approve(desk.db, order.id, "100", "offer:1") == Money.of("100", "RUB")
    # The replay is answered with what the ledger holds for the key, whatever it asks.
    assert await approve(desk.db, order.id, "300", "offer:1") == Money.of("100", "RUB")
    assert await desk.refunded(order.number) == Money.of("100", "RUB")
    assert len(await desk.refunds(order.number)) == 1


async def test_the_same_key_twice_in_one_transaction_records_one_refund(desk: Desk) -> None:
    """The first refund is held for the commit; the second must still find its key used."""
    order = await desk.order(items=[("Kettle", 1, "1000")])
    async with desk.db.session() as session, session.begin():
        for amount in ("100", "200"):
            recorded = await ledger.approve_refund(
                Transaction.of(session),
                order_id=order.id,
                amount=Money.of(amount, "RUB"),
                reason=Reason.DEFECT,
                key="offer:1",
                now=START,
            )
            assert recorded == Money.of("100", "RUB")
    assert await desk.refunded(order.number) == Money.of("100", "RUB")
    assert len(await desk.refunds(order.number)) == 1


async def test_the_database_itself_refuses_a_total_above_what_was_paid(desk: Desk) -> None:
    order = await desk.order(items=[("Kettle", 1, "1000")])
    with pytest.raises(IntegrityError):
        async with desk.db.session() as session, session.begin():
            await session.execute(
                update(Order).where(Order.id == order.id).values(refunded_minor=100_001)
            )


async def test_concurrent_refunds_never_exceed_the_payment(desk: Desk) -> None:
    order = await desk.order(items=[("Kettle", 1, "1000")])
    results = await asyncio.gather(*(approve(desk.db, order.id, "150", f"k{i}") for i in range(12)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 6  # 6 × 150 = 900 fits in 1000; a 7th would not
    assert await desk.refunded(order.number) == Money.of("900", "RUB")
    assert len(await desk.refunds(order.number)) == 6


async def test_a_failed_refund_makes_its_amount_refundable_again(desk: Desk) -> None:
    order = await desk.order(items=[("Kettle", 1, "1000")])
    await approve(desk.db, order.id, "1000", "first")
    [refund] = await desk.refunds(order.number)
    async with desk.db.session() as session, session.begin():
        row = await session.get(Refund, refund.id)
        assert row is not None
        tx = Transaction.of(session)
        assert await ledger.mark_failed(tx, row, START, "card expired")
        assert not await ledger.mark_failed(tx, row, START, "again")
    assert await desk.refunded(order.number) == Money.zero("RUB")
    [refund] = await desk.refunds(order.number)
    assert refund.status is RefundStatus.FAILED
    assert await approve(desk.db, order.id, "1000", "second") == Money.of("1000", "RUB")


async def test_two_deciders_approving_at_once_make_one_decision(desk: Desk) -> None:
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    await describe_defect(desk, price="5000")
    payload = dora.button("Approve")
    engine = desk.sandbox.app.engine
    events = [
        Incoming(
            key=f"race:{p.user_id}",
            author=p.author,
            chat_id=p.chat_id,
            payload=payload,
            callback_id="cb",
        )
        for p in (dora, dmitri)
    ]
    outcomes = await asyncio.gather(*(engine.process(e) for e in events))
    await desk.deliver()
    answers = sorted(o.callback_answer or "" for o in outcomes)
    case = await desk.latest_case()
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.OFFERED
    assert answers[0] == "" and answers[1] == f"Already decided by {offer.decided_by_name}."
    assert sum("the seller offers" in m.plain for m in anna.inbox) == 1


async def test_an_offer_accepted_after_other_refunds_used_the_money_is_refused(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Mug", 1, "1400")])
    await open_flow(anna, "problem", order)
    await anna.click("wrong price")
    await anna.click("Keep it")
    await anna.send("900")
    accept = anna.button("Accept")  # 900 offered while 1400 was refundable
    # Meanwhile the marketplace refunded 600 through another channel, and the buyer accepts at
    # the same moment: whichever comes second finds too little left.
    outcomes = await asyncio.gather(
        approve(desk.db, order.id, "600", "marketplace:1"),
        desk.sandbox.app.engine.process(
            Incoming(
                key="accept",
                author=anna.author,
                chat_id=anna.chat_id,
                payload=accept,
                callback_id="cb",
            )
        ),
    )
    await desk.deliver()
    refunded = await desk.refunded(order.number)
    assert refunded <= Money.of("1400", "RUB")
    amounts = sorted(r.amount.amount for r in await desk.refunds(order.number))
    assert len(amounts) == 1
    case = await desk.latest_case()
    if amounts == [600]:
        assert "only RUB800.00 of this order is left" in (outcomes[1].callback_answer or "")
        [offer] = await desk.offers(case.id)
        assert offer.status is OfferStatus.OFFERED  # nothing changed; the buyer can talk to us
    else:
        assert amounts == [900] and outcomes[0] is None
