"""Cancelling: before shipping a full refund; on the way refuse at delivery or keep it
(PLAYBOOK: cancellations after the order has shipped)."""

from __future__ import annotations

from bot.domain.enums import CaseState, OrderStatus, Reason
from bot.domain.money import Money
from tests.desk import Desk, open_flow


async def ask_to_cancel(desk: Desk, status: str) -> str:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Lamp", 1, "1500")], shipping="200", status=status)
    await open_flow(anna, "cancel", order)
    if "Why would you like to cancel" in anna.last.plain:
        await anna.click("I changed my mind")
    return order.number


async def test_before_shipping_the_order_is_cancelled_and_everything_refunded(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await ask_to_cancel(desk, "confirmed")
    assert "you get back everything you paid: RUB1,700.00" in anna.last.plain
    await anna.click("Yes, cancel it")
    order = await desk.get_order(number)
    assert order.status is OrderStatus.CANCELLED
    [refund] = await desk.refunds(number)
    assert (refund.amount, refund.reason) == (Money.of("1700", "RUB"), Reason.CHANGED_MIND)
    assert "refund RUB1,700.00" in dora.last.plain


async def test_on_the_way_the_buyer_may_keep_it_with_the_policy_discount(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await ask_to_cancel(desk, "in_transit")
    assert "already on its way" in anna.last.plain
    assert anna.last.labels == [
        "I'll refuse it at delivery",
        "Keep it and get 5% back",
        "No, keep the order",
    ]
    await anna.click("Keep it and get 5% back")
    assert "refund of RUB75.00" in anna.last.plain  # 5% of 1500, under the auto limit
    await anna.click("Accept")
    assert (await desk.refunded(number)) == Money.of("75", "RUB")


async def test_on_the_way_the_buyer_may_refuse_it_at_delivery(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await ask_to_cancel(desk, "shipped")
    await anna.click("refuse it at delivery")
    assert "simply refuse the parcel" in anna.last.plain
    assert "will refuse it at delivery" in dora.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_a_delivered_order_is_returned_rather_than_cancelled(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "cancel", order)
    assert "already been delivered" in anna.last.plain
    await anna.click("Return an item")
    assert "Why are you returning it?" in anna.last.plain
