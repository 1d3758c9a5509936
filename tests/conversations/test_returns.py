"""A return: window check, reason, condition, photos, instructions with who pays shipping,
tracking, inspection by the seller, refund (docs/conversations.md#returns)."""

from __future__ import annotations

from bot.domain.enums import (
    CaseKind,
    CaseState,
    EscalationReason,
    PromiseKind,
    PromiseState,
    RefundStatus,
)
from bot.domain.money import Money
from tests.desk import Desk, open_flow


async def start_return(desk: Desk, *, days_ago: int = 3, reason: str = "Not as described") -> str:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Headphones", 1, "5200")], delivered_days_ago=days_ago)
    await open_flow(anna, "return", order)
    if "return window" in anna.last.plain:
        return order.number
    await anna.click(reason)
    await anna.click("Unused, in its packaging")
    if "photo" in anna.last.plain:
        await anna.send_photo()
        await anna.click("That's all the photos")
    return order.number


async def test_return_inside_the_window_is_inspected_and_refunded_in_full(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await start_return(desk)
    assert "You'll get back RUB5,200.00" in anna.last.plain
    assert "Return shipping is paid by the seller" in anna.last.plain
    await anna.click("I've sent it")
    await anna.send("RR 1234 5678 5DE")
    assert "check the item when it arrives, at the latest by Mon, Nov 30" in anna.last.plain
    assert "tracking RR123456785DE" in dora.last.plain

    await dora.click("refund in full")
    assert "Agreed: a refund of RUB5,200.00" in anna.last.plain
    [refund] = await desk.refunds(number)
    assert (refund.amount, refund.status) == (Money.of("5200", "RUB"), RefundStatus.APPROVED)
    await dora.click("Refund of RUB5,200.00 sent")
    case = await desk.latest_case()
    assert (case.kind, case.state) == (CaseKind.RETURN, CaseState.RESOLVED)
    promises = {c.kind: c.state for c in await desk.promises(case.id)}
    assert promises == {
        PromiseKind.RETURN_INSPECTION: PromiseState.KEPT,
        PromiseKind.REFUND_EXECUTION: PromiseState.KEPT,
    }


async def test_inspection_with_a_deduction_refunds_the_rest_and_says_why(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await start_return(desk)
    await anna.click("I've sent it")
    await anna.send("RR123456785DE")
    await dora.click("with a deduction")
    await dora.send("9999999")
    assert "more than the RUB5,200.00 available" in dora.last.plain
    await dora.send("700")
    await dora.send("The ear cushion is torn")
    assert "RUB4,500.00" in anna.last.plain and "The ear cushion is torn" in anna.last.plain
    [refund] = await desk.refunds(number)
    assert refund.amount == Money.of("4500", "RUB") and refund.note == "The ear cushion is torn"


async def test_a_change_of_mind_is_returned_at_the_buyers_cost(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await start_return(desk, reason="I changed my mind")
    assert "Return shipping is paid by you" in anna.last.plain


async def test_outside_the_window_the_buyer_gets_a_clear_answer_and_alternatives(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    await start_return(desk, days_ago=20)
    assert "closed on Nov 10, 2026" in anna.last.plain
    assert anna.last.labels == ["Something is wrong with an order"]
    await anna.click("Something is wrong with an order")
    assert "What is wrong with order" in anna.last.plain


async def test_wanting_a_return_in_the_problem_flow_leads_into_the_return(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Kettle", 1, "2000")])
    await open_flow(anna, "problem", order)
    await anna.click("A defect")
    await anna.click("Send it back")
    assert "What condition is the item in?" in anna.last.plain
    await anna.click("Used")
    await anna.send_photo()
    await anna.click("That's all the photos")
    assert "You'll get back RUB2,000.00" in anna.last.plain
    assert (await desk.latest_case()).kind is CaseKind.RETURN


async def test_a_bad_tracking_number_is_explained_and_asked_again(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await start_return(desk)
    await anna.click("I've sent it")
    await anna.send("I sent it yesterday!!")
    assert "doesn't look like a tracking number" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RETURN_TRACKING
    await anna.send("x" * 10_000)
    assert "doesn't look like a tracking number" in anna.last.plain
    await anna.send("RR123456785DE")
    assert (await desk.latest_case()).state is CaseState.RETURN_IN_TRANSIT


async def test_a_return_before_delivery_is_not_possible_yet(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(status="in_transit")
    await open_flow(anna, "return", order)
    assert "possible once it has been delivered" in anna.last.plain


async def inspected_with_a_deduction(desk: Desk, *, deduct: str = "700") -> int:
    """Anna's headphones came back; Dora deducts `deduct` with a photo, for a torn cushion."""
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await start_return(desk)
    await anna.click("I've sent it")
    await anna.send("RR123456785DE")
    await dora.click("with a deduction")
    await dora.send_photo()
    await dora.send(deduct)
    await dora.send("The ear cushion is torn")
    return (await desk.latest_case()).id


async def test_a_deduction_is_told_as_the_sellers_not_as_agreed_and_may_be_disputed(
    desk: Desk,
) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await inspected_with_a_deduction(desk)
    told = anna.last
    assert "Agreed" not in told.plain
    assert "deducted RUB700.00: The ear cushion is torn" in told.plain
    assert "RUB4,500.00" in told.plain
    assert len(told.photos) == 1  # the seller's photo, with what it is for
    assert told.labels == ["Dispute the deduction"]

    await anna.click("Dispute the deduction")
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (
        CaseState.ESCALATED,
        EscalationReason.DEDUCTION_DISPUTED,
    )
    assert "A person will write to you here by" in anna.last.plain
    summary = "\n".join(m.plain for m in await desk.in_topic(case_id))
    assert "disputes the deduction" in summary and "The ear cushion is torn" in summary
    # The undisputed part is still owed by the seller.
    owed = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.REFUND_EXECUTION]
    assert [p.state for p in owed] == [PromiseState.OPEN]
    assert sam  # support works it from the topic


async def test_words_against_a_deduction_get_the_dispute_button(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await inspected_with_a_deduction(desk)
    await anna.send("the deduction is unfair")
    assert "Please choose one of the buttons below" not in anna.last.plain
    assert anna.last.labels == ["Dispute the deduction"]
    await anna.click("Dispute the deduction")
    assert (await desk.latest_case()).state is CaseState.ESCALATED


async def test_a_deduction_of_everything_may_be_disputed_too(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await inspected_with_a_deduction(desk, deduct="5200")
    assert "Nothing is left to refund" in anna.last.plain
    assert anna.last.labels == ["Dispute the deduction"]
    await anna.send("the deduction is unfair")
    assert anna.last.labels == ["Dispute the deduction"]
    await anna.click("Dispute the deduction")
    assert (await desk.latest_case()).escalation_reason is EscalationReason.DEDUCTION_DISPUTED
