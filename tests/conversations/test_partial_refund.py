"""Buyer and seller settle a partial refund (docs/conversations.md#partial-refund)."""

from __future__ import annotations

from bot.domain.enums import (
    CaseState,
    OfferStatus,
    PromiseKind,
    PromiseState,
    RefundStatus,
    Remedy,
    Role,
)
from bot.domain.money import Money
from tests.desk import Desk, open_flow


async def describe_defect(
    desk: Desk, buyer: str = "anna", price: str = "2000", want: str = "Keep it"
) -> str:
    order = await desk.order(buyer, items=[("Kettle", 1, price)])
    person = desk.buyer(buyer)
    await open_flow(person, "problem", order)
    await person.click("A defect")
    await person.click(want)
    await person.send_photo(caption="scratch on the lid")
    await person.click("That's all the photos")
    return order.number


async def test_small_defect_is_offered_at_once_and_refunded(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")

    # 30% of 2000 = 600 RUB, under the 1000 RUB auto-approval limit: no seller tap needed.
    assert "refund of RUB600.00" in anna.last.plain
    assert anna.last.labels == ["Accept", "Decline"]
    await anna.click("Accept")
    assert "Agreed: a refund of RUB600.00" in anna.last.plain
    assert "Wed, Nov 18 07:00 (Central European Standard Time)" in anna.last.plain  # 2d, Berlin

    [refund] = await desk.refunds(number)
    assert (refund.amount, refund.status) == (Money.of("600", "RUB"), RefundStatus.APPROVED)
    dora = desk.staff("dora")
    assert "refund RUB600.00" in dora.last.plain
    await dora.click("Refund of RUB600.00 sent")
    assert "has sent your refund of RUB600.00" in anna.last.plain
    [refund] = await desk.refunds(number)
    assert refund.status is RefundStatus.EXECUTED
    case = await desk.latest_case()
    assert case.state is CaseState.RESOLVED
    kinds = {(c.kind, c.state) for c in await desk.promises(case.id)}
    assert kinds == {(PromiseKind.REFUND_EXECUTION, PromiseState.KEPT)}


async def test_offer_above_the_limit_waits_for_the_seller_with_a_promised_time(desk: Desk) -> None:
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    await describe_defect(desk, price="5000")  # 30% = 1500 RUB > 1000 RUB

    assert (
        "You'll have their answer by Tue, Nov 17 07:00 (Central European Standard Time)"
        in anna.last.plain
    )
    for decider in (dora, dmitri):
        assert "A decision is needed" in decider.last.plain
        assert len(decider.last.photos) == 1  # the buyer's photo, above the question
        assert decider.last.labels == [
            "Approve RUB1,500.00",
            "Change the amount",
            "Refuse, offer an alternative",
        ]
    case = await desk.latest_case()
    [promise] = await desk.promises(case.id)
    assert (promise.kind, promise.owner_role, promise.state) == (
        PromiseKind.SELLER_DECISION,
        Role.SELLER,
        PromiseState.OPEN,
    )

    await dora.click("Approve")
    assert "the seller offers a refund of RUB1,500.00" in anna.last.plain
    [promise] = await desk.promises(case.id)
    assert promise.state is PromiseState.KEPT
    [offer] = await desk.offers(case.id)
    assert (offer.status, offer.decided_by_name, offer.deviation) == (
        OfferStatus.OFFERED,
        "Dora",
        False,
    )

    # Dmitri's copy of the buttons is now stale: the first decision won.
    await dmitri.click("Approve")
    assert dmitri.answers[-1] == "Already decided by Dora."
    assert len(await desk.offers(case.id)) == 1


async def test_seller_changes_the_amount_and_the_deviation_is_recorded(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="5000")
    await dora.click("Change the amount")
    assert "at most RUB5,000.00" in dora.last.plain
    await dora.send("1 200,50")
    assert "the seller offers a refund of RUB1,200.50" in anna.last.plain
    assert "differs from your policy's standard offer (RUB1,500.00)" in dora.last.plain

    case = await desk.latest_case()
    standard, changed = await desk.offers(case.id)
    assert (standard.status, standard.remedy) == (OfferStatus.CHANGED, Remedy.PERCENT)
    assert (changed.remedy, changed.amount, changed.deviation) == (
        Remedy.REFUND,
        Money.of("1200.50", "RUB"),
        True,
    )
    assert changed.standard_amount == Money.of("1500", "RUB")
    assert changed.proposed_by_role is Role.SELLER and changed.proposed_by_id == 501


async def test_discontinued_part_is_refused_with_an_alternative_the_buyer_accepts(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Speaker", 1, "3000"), ("USB-C cable", 2, "250")])
    await open_flow(anna, "problem", order)
    await anna.click("Something is missing")
    await anna.click("USB-C cable")
    assert anna.last.labels == ["1", "2"]
    await anna.click("1")
    await anna.click("A replacement")
    assert "of everything that came in the parcel" in anna.last.plain  # why the photo helps
    await anna.send_photo()
    await anna.click("That's all the photos")

    assert "reship of the missing part" in dora.last.plain
    await dora.click("Refuse, offer an alternative")
    assert dora.last.labels == [
        "Refund another amount",
        "Give a coupon",
        "No alternative: hand to support",
    ]
    await dora.click("Refund another amount")
    await dora.send("250")
    assert "the seller offers a refund of RUB250.00, and you keep the item" in anna.last.plain
    await anna.click("Accept")
    [refund] = await desk.refunds(order.number)
    assert refund.amount == Money.of("250", "RUB")


async def test_buyer_declines_once_then_the_seller_gets_another_round_then_support(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="2000")  # 600 RUB auto-approved
    await anna.click("Decline")
    await anna.send("600 is too little, the kettle leaks")
    assert "The seller will answer by" in anna.last.plain
    assert "The buyer declined" in dora.last.plain and "the kettle leaks" in dora.last.plain

    await dora.click("Change the amount")
    await dora.send("900")
    assert "refund of RUB900.00" in anna.last.plain
    await anna.click("Decline")
    await anna.send("Still not enough")
    assert "handed your request to our support team" in anna.last.plain
    case = await desk.latest_case()
    assert case.state is CaseState.ESCALATED and case.buyer_declines == 2
    open_promises = [c for c in await desk.promises(case.id) if c.state is PromiseState.OPEN]
    assert [(c.kind, c.owner_role) for c in open_promises] == [
        (PromiseKind.SUPPORT_REPLY, Role.SUPPORT)
    ]
    assert await desk.refunds() == []


async def test_price_error_refunds_the_difference_the_buyer_states(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Blender", 1, "4000")])
    await open_flow(anna, "problem", order)
    await anna.click("wrong price")
    await anna.click("Keep it")
    assert "up to RUB4,000.00" in anna.last.plain
    await anna.send("350")
    assert "refund of RUB350.00" in anna.last.plain  # under the limit, no photos needed
    await anna.click("Accept")
    assert (await desk.refunded(order.number)) == Money.of("350", "RUB")


async def test_a_question_goes_to_the_seller_whose_answer_keeps_the_promise(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    await anna.click("Something else")
    await anna.click("Just an explanation")
    await anna.send("How do I descale it?")
    assert "an answer by Mon, Nov 16 11:00" in anna.last.plain  # 4h, Berlin
    assert "How do I descale it?" in dora.last.plain
    await dora.click("Answer the buyer")
    await dora.send("Vinegar and water, <1:1>, boil twice & rinse.")
    assert "Vinegar and water, <1:1>, boil twice & rinse." in anna.last.plain
    case = await desk.latest_case()
    [promise] = await desk.promises(case.id)
    assert (promise.kind, promise.state) == (PromiseKind.FIRST_REPLY, PromiseState.KEPT)
