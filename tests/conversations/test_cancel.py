"""Cancelling: before shipping a full refund; on the way refuse at delivery or keep it
(docs/conversations.md#cancel)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.enums import (
    CaseState,
    EscalationReason,
    OrderStatus,
    PromiseKind,
    PromiseState,
    Reason,
    RefundStatus,
    Role,
)
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


async def test_the_seller_is_told_first_that_a_cancelled_order_must_not_ship(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await ask_to_cancel(desk, "confirmed")
    await anna.click("Yes, cancel it")
    card = dora.last
    assert card.plain.startswith(f"Order #{number} is cancelled: do not ship it.")
    assert card.labels == ["Stopped: it won't ship", "It had already shipped"]

    await dora.click("Stopped")
    assert f"order #{number} will not ship" in dora.inbox[-2].plain
    assert dora.last.labels == ["Refund of RUB1,700.00 sent"]  # now the refund
    await dora.click("Refund of RUB1,700.00 sent")
    assert "has sent your refund of RUB1,700.00" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_an_order_that_had_already_shipped_gives_the_buyer_the_on_the_way_choices(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await ask_to_cancel(desk, "confirmed")
    await anna.click("Yes, cancel it")
    await dora.click("It had already shipped")
    assert "had already shipped, so nothing is refunded now" in dora.last.plain
    assert "had already shipped when your cancellation reached them" in anna.last.plain
    assert anna.last.labels == [
        "I'll refuse it at delivery",
        "Keep it and get 5% back",
        "No, keep the order",
    ]
    order = await desk.get_order(number)
    assert (order.status, order.cancelled_at) == (OrderStatus.SHIPPED, None)
    [refund] = await desk.refunds(number)
    assert refund.status is RefundStatus.FAILED  # withdrawn: nothing refunded for it
    case = await desk.latest_case()
    assert case.state is CaseState.CANCEL_CONFIRM
    assert not [p for p in await desk.promises(case.id) if p.state is PromiseState.OPEN]

    await anna.click("refuse it at delivery")  # the whole amount is refundable again
    assert "your RUB1,700.00 is refunded" in anna.last.plain
    await dora.click("Stopped")  # the old card's button is stale now
    assert "no longer does anything" in dora.answers[-1]


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


async def test_refusing_at_delivery_leaves_the_seller_a_refund_to_send_when_it_is_back(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await ask_to_cancel(desk, "shipped")
    await anna.click("refuse it at delivery")
    assert "simply refuse the parcel" in anna.last.plain
    assert "your RUB1,700.00 is refunded: the seller has until" in anna.last.plain
    assert "will refuse it at delivery" in dora.last.plain
    assert dora.last.labels == ["Returned to us: refund of RUB1,700.00 sent"]
    case = await desk.latest_case()
    assert case.state is CaseState.EXECUTING  # open until the money is back with the buyer
    [promise] = await desk.promises(case.id)
    assert (promise.kind, promise.owner_role, promise.state) == (
        PromiseKind.REFUND_EXECUTION,
        Role.SELLER,
        PromiseState.OPEN,
    )
    # The parcel comes back first: the time a returned item is checked in, not a refund's 2 days.
    assert promise.due_at - promise.created_at == timedelta(days=14)

    await dora.click("Returned to us")
    assert "has sent your refund of RUB1,700.00" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED
    [refund] = await desk.refunds(number)
    assert refund.status is RefundStatus.EXECUTED
    [promise] = await desk.promises(case.id)
    assert promise.state is PromiseState.KEPT


async def test_a_refund_after_a_refusal_not_sent_in_time_goes_to_support(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await ask_to_cancel(desk, "in_transit")
    await anna.click("refuse it at delivery")
    case = await desk.latest_case()
    [promise] = await desk.promises(case.id)
    desk.at(promise.due_at)
    assert (await desk.sweep()).breached == 1
    assert "because a promised reply time was missed" in dora.last.plain
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (CaseState.ESCALATED, EscalationReason.BREACH)
    # Still owed, under a new promise the sweeper watches, and one tap away for the seller.
    refund_promises = [
        p.state for p in await desk.promises(case.id) if p.kind is PromiseKind.REFUND_EXECUTION
    ]
    assert refund_promises == [PromiseState.BREACHED, PromiseState.OPEN]


async def test_a_delivered_order_is_returned_rather_than_cancelled(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "cancel", order)
    assert "already been delivered" in anna.last.plain
    await anna.click("Return an item")
    assert "Why are you returning it?" in anna.last.plain
