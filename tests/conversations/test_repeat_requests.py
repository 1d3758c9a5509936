"""The same item is never paid twice with nobody looking: a second request on an order item that
already had a refund (or still has an open case) goes to the seller, with the earlier one on the
card; a new request on an order with an open case takes the buyer to that case."""

from __future__ import annotations

from bot.domain.enums import CaseState, OfferStatus
from bot.domain.money import Money
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow


async def report_defect_again(desk: Desk, number: str) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", number)
    await anna.click("A defect")
    await anna.click("Keep it")
    await anna.send_photo(caption="the same scratch")
    await anna.click("That's all the photos")


async def test_a_second_defect_on_the_same_item_goes_to_the_seller_with_the_first_shown(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await describe_defect(desk, price="2000")
    assert "refund of RUB600.00" in anna.last.plain  # the first: 30%, auto-approved
    await anna.click("Accept")
    await dora.click("Refund of RUB600.00 sent")
    first = await desk.latest_case()
    assert first.state is CaseState.RESOLVED

    desk.later(days=2)
    await report_defect_again(desk, number)
    second = await desk.latest_case()
    assert second.id != first.id
    assert second.state is CaseState.AWAITING_SELLER  # 600 RUB is under the limit, yet
    assert "You'll have their answer by" in anna.last.plain
    assert not any(label == "Accept" for label in anna.last.labels)
    card = dora.last.plain
    assert "A decision is needed" in card
    # Anna reads Berlin time, Dora too: the refund was approved on Mon, Nov 16.
    assert "2nd request on this item: RUB600.00 (30%) refunded on Nov 16, 2026" in card
    [offer] = await desk.offers(second.id)
    assert offer.status is OfferStatus.PENDING_SELLER
    assert len(await desk.refunds(number)) == 1  # nothing paid without the seller

    await dora.click("Approve")
    assert "the seller offers a refund of RUB600.00" in anna.last.plain


async def test_a_price_difference_the_buyer_states_is_auto_approved_only_once(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Phone case", 1, "2000")])
    for attempt in (1, 2):
        await open_flow(anna, "problem", order)
        await anna.tap("reason", reason="price_error")
        await anna.tap("want", want="keep")
        await anna.send("900")
        if attempt == 1:
            assert "refund of RUB900.00" in anna.last.plain
            await anna.click("Accept")
            await dora.click("Refund of RUB900.00 sent")
    assert (await desk.latest_case()).state is CaseState.AWAITING_SELLER
    assert "2nd request on this item: RUB900.00 (45%) refunded on" in dora.last.plain
    assert (await desk.refunded(order.number)) == Money.of("900", "RUB")


async def test_a_refund_on_another_item_of_the_order_does_not_count(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Phone case", 1, "2000"), ("Charger", 1, "1000")])
    for item in ("Charger", "Phone case"):
        await open_flow(anna, "problem", order)
        await anna.click("A defect")
        await anna.click(item)
        await anna.click("Keep it")
        await anna.send_photo()
        await anna.click("That's all the photos")
        if item == "Charger":
            await anna.click("Accept")
            await dora.click("Refund of RUB300.00 sent")
    assert "refund of RUB600.00" in anna.last.plain  # a first request on this item
    assert (await desk.latest_case()).state is CaseState.AWAITING_BUYER


async def test_a_second_keep_discount_on_the_same_order_needs_the_seller(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Lamp", 1, "1500")], status="in_transit")
    for _ in (1, 2):
        await open_flow(anna, "cancel", order)
        await anna.click("I changed my mind")
        await anna.click("Keep it and get 5% back")
        if "refund of RUB75.00" in anna.last.plain:
            await anna.click("Accept")
            await dora.click("Refund of RUB75.00 sent")
    assert (await desk.latest_case()).state is CaseState.AWAITING_SELLER
    assert "2nd request on this item: RUB75.00 (5%) refunded on" in dora.last.plain
    assert (await desk.refunded(order.number)) == Money.of("75", "RUB")


async def test_a_new_request_on_an_order_with_an_open_case_shows_the_open_one(desk: Desk) -> None:
    """Anna has an offer to answer and starts over from the menu: she is shown that offer again,
    with its buttons, and no second case is opened."""
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")
    first = await desk.latest_case()
    await open_flow(anna, "problem", number)
    assert "You already have a request about order" in anna.inbox[-2].plain
    assert "refund of RUB600.00" in anna.last.plain
    assert anna.last.labels == ["Accept", "Decline"]
    assert [c.id for c in await desk.cases()] == [first.id]
    await anna.click("Accept")
    assert (await desk.refunded(number)) == Money.of("600", "RUB")
