"""The seller's side beyond approve and change: alternatives, shipping, handing to support,
the pending list, amounts the policy leaves to the seller."""

from __future__ import annotations

from bot.domain.enums import (
    CaseState,
    EscalationReason,
    OfferStatus,
    PromiseKind,
    PromiseState,
    Remedy,
)
from bot.domain.money import Money
from tests.desk import Desk, open_flow


async def missing_cable(desk: Desk, buyer: str = "anna") -> str:
    person = desk.buyer(buyer)
    order = await desk.order(buyer, items=[("Speaker", 1, "3000"), ("Cable", 1, "250")])
    await open_flow(person, "problem", order)
    await person.tap("reason", reason="missing_items")
    await person.click("Cable")
    await person.tap("want", want="replace")
    await person.send_photo()
    await person.tap("photos_done")
    return order.number


async def test_an_approved_reship_is_shipped_and_the_buyer_told(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await missing_cable(desk)
    assert dora.last.labels == ["Approve", "Offer a refund instead", "Refuse, offer an alternative"]
    await dora.click("Approve")
    assert "the missing part sent to you free of charge" in anna.last.plain
    await anna.click("Accept")
    assert "Agreed: reship of the missing part" in anna.last.plain
    assert dora.last.labels == ["Shipped"]
    await dora.click("Shipped")
    assert "The seller has shipped it" in anna.last.plain
    case = await desk.latest_case()
    # The promise is kept at "Shipped"; the case ends when the parcel arrives (test_reshipment.py).
    assert case.state is CaseState.AWAITING_DELIVERY
    assert await desk.refunds() == []
    [decision, fulfilment] = await desk.promises(case.id)
    assert (fulfilment.kind, fulfilment.state) == (PromiseKind.FULFILMENT, PromiseState.KEPT)
    assert decision.state is PromiseState.KEPT


async def test_a_coupon_instead_of_money_moves_nothing_in_the_ledger(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await missing_cable(desk)
    await dora.click("Refuse, offer an alternative")
    await dora.click("Give a coupon")
    await dora.send("500")
    assert "a coupon worth RUB500.00 for your next order" in anna.last.plain
    await anna.click("Accept")
    assert "Agreed: coupon worth RUB500.00. The seller will issue it by" in anna.last.plain
    await dora.click("Coupon issued")
    assert "has issued your coupon" in anna.last.plain
    assert await desk.refunds() == []
    offers = await desk.offers((await desk.latest_case()).id)
    assert [(o.round, o.remedy, o.status) for o in offers] == [
        (1, Remedy.RESHIP, OfferStatus.REFUSED),
        (2, Remedy.COUPON, OfferStatus.ACCEPTED),
    ]


async def test_refusing_with_no_alternative_hands_the_case_to_support(desk: Desk) -> None:
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    await missing_cable(desk)
    await dora.click("Refuse, offer an alternative")
    await dora.click("No alternative")
    assert "handed your request to our support team" in anna.last.plain
    assert "goes to support" in dora.last.plain
    assert "has been handed to support" in dmitri.last.plain
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (
        CaseState.ESCALATED,
        EscalationReason.SELLER_NO_ALTERNATIVE,
    )


async def test_a_withdrawn_request_tells_the_seller_and_closes_the_promise(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await missing_cable(desk)
    await open_flow(anna, "problem", number)
    assert "You already have a request" in anna.last.plain
    await anna.click("Withdraw this request")
    assert "The buyer withdrew" in dora.last.plain
    case = await desk.latest_case()
    assert case.state is CaseState.CLOSED
    assert [c.state for c in await desk.promises(case.id)] == [PromiseState.CLOSED]
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.WITHDRAWN
    await dora.click("Approve")
    assert dora.answers[-1] == "Already decided by Anna."


async def test_pending_lists_what_waits_with_working_buttons(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await missing_cable(desk)
    await dora.send("/pending")
    assert "1 case waits for you" in dora.inbox[-2].plain
    assert dora.last.labels == ["Approve", "Offer a refund instead", "Refuse, offer an alternative"]
    await dora.click("Approve", message=dora.last)
    assert "the missing part sent" in anna.last.plain
    await dora.send("/pending")
    assert "Nothing waits for you" in dora.last.plain
    await anna.send("/pending")
    assert anna.last.plain == "Sorry, that is not available to you."


async def test_a_fixed_amount_the_policy_lacks_for_a_currency_is_set_by_the_seller(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Lamp", 1, "900")], currency="CNY")
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="late_delivery")
    await anna.tap("want", want="keep")
    assert "your policy sets no amount in CNY" in dora.last.plain
    assert dora.last.labels == ["Set the amount", "Refuse, offer an alternative"]
    await dora.click("Set the amount")
    await dora.send("45")
    assert "refund of CN¥45.00" in anna.last.plain


async def test_a_remedy_the_policy_does_not_have_gets_the_ones_it_has(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="wrong_item")
    await anna.tap("want", want="keep")
    assert "the seller can't offer that, but here is what is possible" in anna.last.plain
    assert anna.last.labels == [anna.label("want", want=w) for w in ("replace", "return", "answer")]


async def test_when_everything_was_refunded_no_more_money_is_offered(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Mug", 1, "500")])
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="price_error")
    await anna.tap("want", want="keep")
    await anna.send("500")
    await anna.click("Accept")
    await desk.staff("dora").click("Refund of RUB500.00 sent")
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    assert "already been refunded" in anna.last.plain  # said before asking for photos
    assert await desk.refunded(order.number) == Money.of("500", "RUB")


async def test_a_deduction_of_everything_refunds_nothing_and_says_why(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Watch", 1, "800")])
    await open_flow(anna, "return", order)
    await anna.tap("reason", reason="changed_mind")
    await anna.tap("condition", condition="damaged")
    await anna.tap("return_sent")
    await anna.send("RR123456785DE")
    await dora.tap("inspect_deduct")
    await dora.send("800")
    await dora.send("Crushed glass, not repairable")
    assert "Nothing is left to refund" in anna.last.plain and "Crushed glass" in anna.last.plain
    assert await desk.refunds() == []
    assert (await desk.latest_case()).state is CaseState.RESOLVED
