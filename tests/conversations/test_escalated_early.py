"""Support works any escalated case, whatever step the buyer was at when they asked for a person:
before choosing a reason, an item or what they want, at the photos, at an offer, while the seller
decides, in a return or a cancellation. Every command of the desk works on each of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.domain.enums import CaseState, OfferStatus, RefundStatus
from bot.domain.money import Money
from tests.desk import Desk, open_flow

FAILURE = "something went wrong"


async def _menu(desk: Desk) -> None:
    """ "Talk to a person" from the menu: the case has nothing but its order."""
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Phone case", 1, "2000")])
    await anna.send("/start")
    await anna.tap("menu_person")
    await anna.click(f"#{order.number}")


async def _reason(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.send("operator")


async def _item(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Phone case", 1, "2000"), ("Cable", 1, "500")])
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="defect")
    await anna.send("operator")


async def _quantity(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 3, "700")]))
    await anna.tap("reason", reason="defect")
    await anna.send("operator")


async def _want(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="defect")
    await anna.send("человек")


async def _photos(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    await anna.send("operator")


async def _claimed(desk: Desk) -> None:
    """At "how much were you overcharged?"."""
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="price_error")
    await anna.tap("want", want="keep")
    await anna.send("operator")


async def _question(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="answer")
    await anna.send("operator")


async def _offer(desk: Desk) -> None:
    """With the standard offer in front of her."""
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    await anna.send_photo()
    await anna.tap("photos_done")
    assert anna.last.labels == ["Accept", "Decline"]
    await anna.send("operator")


async def _seller(desk: Desk) -> None:
    """While the seller decides."""
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Phone case", 1, "5000")]))
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    await anna.send_photo()
    await anna.tap("photos_done")
    await anna.send("operator")


async def _return_reason(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "return", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.send("operator")


async def _return_condition(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "return", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="changed_mind")
    await anna.send("operator")


async def _return_shipping_step(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "return", await desk.order(items=[("Phone case", 1, "2000")]))
    await anna.tap("reason", reason="changed_mind")
    await anna.tap("condition", condition="unused")


async def _return_shipping(desk: Desk) -> None:
    """With the return instructions, before sending the item."""
    await _return_shipping_step(desk)
    await desk.buyer("anna").send("operator")


async def _return_tracking(desk: Desk) -> None:
    """Asked for the tracking number."""
    await _return_shipping_step(desk)
    await desk.buyer("anna").tap("return_sent")
    await desk.buyer("anna").send("operator")


async def _return_in_transit(desk: Desk) -> None:
    """The item is on its way back; the seller has yet to inspect it."""
    anna = desk.buyer("anna")
    await _return_shipping_step(desk)
    await anna.tap("return_sent")
    await anna.send("RR123456785DE")
    await anna.send("operator")


async def _cancel_reason(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Phone case", 1, "2000")], status="in_transit")
    await open_flow(anna, "cancel", order)
    await anna.send("operator")


async def _cancel_confirm(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Phone case", 1, "2000")], status="confirmed")
    await open_flow(anna, "cancel", order)
    await anna.tap("reason", reason="changed_mind")
    await anna.send("operator")


STEPS: dict[str, tuple[Callable[[Desk], Awaitable[None]], CaseState]] = {
    "menu": (_menu, CaseState.REASON),
    "reason": (_reason, CaseState.REASON),
    "item": (_item, CaseState.ITEM),
    "quantity": (_quantity, CaseState.QUANTITY),
    "want": (_want, CaseState.WANT),
    "photos": (_photos, CaseState.EVIDENCE),
    "claimed": (_claimed, CaseState.WANT),
    "question": (_question, CaseState.QUESTION),
    "offer": (_offer, CaseState.AWAITING_BUYER),
    "seller": (_seller, CaseState.AWAITING_SELLER),
    "return_reason": (_return_reason, CaseState.REASON),
    "return_condition": (_return_condition, CaseState.CONDITION),
    "return_shipping": (_return_shipping, CaseState.RETURN_SHIPPING),
    "return_tracking": (_return_tracking, CaseState.RETURN_TRACKING),
    "return_in_transit": (_return_in_transit, CaseState.RETURN_IN_TRANSIT),
    "cancel_reason": (_cancel_reason, CaseState.REASON),
    "cancel_confirm": (_cancel_confirm, CaseState.CANCEL_CONFIRM),
}


async def escalated_at(desk: Desk, step: str) -> tuple[int, tuple[int, int]]:
    """Anna asks for a person at `step`; the case and its topic."""
    go, state = STEPS[step]
    await go(desk)
    case = await desk.latest_case()
    assert (case.state, case.escalated_from) == (CaseState.ESCALATED, state)
    assert "handed your request to our support team" in desk.buyer("anna").last.plain
    return case.id, await desk.topic(case.id)


def no_failure(desk: Desk, *keys: str) -> None:
    """Nobody was told that something went wrong."""
    people = [desk.buyer("anna"), *(desk.staff(k) for k in keys)]
    for person in people:
        assert not any(FAILURE in m.plain for m in person.inbox), person.name


steps = pytest.mark.parametrize("step", list(STEPS))


@steps
async def test_support_refunds_a_case_escalated_at_any_step(desk: Desk, step: str) -> None:
    anna, sam, dora = desk.buyer("anna"), desk.staff("sam"), desk.staff("dora")
    case_id, topic = await escalated_at(desk, step)
    await sam.send("/refund 500", topic=topic)
    assert "Agreed: a refund of RUB500.00" in anna.last.plain
    assert "refund RUB500.00" in dora.last.plain  # the seller carries it out
    [refund] = await desk.refunds()
    assert (refund.amount, refund.status, refund.case_id) == (
        Money.of("500", "RUB"),
        RefundStatus.APPROVED,
        case_id,
    )
    assert (await desk.topic_name(case_id)).endswith("resolved")
    await dora.click("Refund of RUB500.00 sent")
    assert "has sent your refund of RUB500.00" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED
    no_failure(desk, "sam", "dora")


@steps
async def test_support_takes_talks_and_offers_on_a_case_escalated_at_any_step(
    desk: Desk, step: str
) -> None:
    anna, sam, dora = desk.buyer("anna"), desk.staff("sam"), desk.staff("dora")
    case_id, topic = await escalated_at(desk, step)
    summary = (await desk.in_topic(case_id))[-1]
    await sam.click("Take this case", message=summary)
    assert (await desk.topic_name(case_id)).endswith("taken by Sam")
    await sam.send("/take", topic=topic)  # again: nothing changes
    await sam.send("/queue", topic=(topic[0], None))
    queue = [m for m in desk.sandbox.channel.inbox(topic[0]) if "Open escalations" in m.plain]
    assert f"case {case_id}) — Sam" in queue[-1].plain

    await sam.send("Hello Anna, which colour is it?", topic=topic)
    assert anna.last.plain == "Acme Goods:\nHello Anna, which colour is it?"
    await anna.send("Black")
    assert (await desk.in_topic(case_id))[-1].plain == "Anna:\nBlack"

    await sam.send("/offer 300", topic=topic)
    assert "refund of RUB300.00" in anna.last.plain
    await anna.click("Accept")
    assert "Agreed: a refund of RUB300.00" in anna.last.plain
    assert "refund RUB300.00" in dora.last.plain
    [refund] = await desk.refunds()
    assert refund.amount == Money.of("300", "RUB")
    offers = await desk.offers(case_id)
    assert offers[-1].status is OfferStatus.ACCEPTED
    no_failure(desk, "sam", "dora")


@steps
async def test_support_resolves_a_case_escalated_at_any_step(desk: Desk, step: str) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id, topic = await escalated_at(desk, step)
    await sam.send("/resolve Explained on the phone.", topic=topic)
    assert "is resolved" in anna.last.plain and "Explained on the phone." in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED
    assert (await desk.topic_name(case_id)).endswith("resolved")
    no_failure(desk, "sam")


# Where the bot takes a case up again after /handback: a described problem from what the buyer
# wants, a decision from the seller, anything else from the step the buyer left.
HANDED_BACK_TO = {
    "menu": CaseState.REASON,
    "reason": CaseState.REASON,
    "item": CaseState.WANT,
    "quantity": CaseState.WANT,
    "want": CaseState.WANT,
    "photos": CaseState.WANT,
    "claimed": CaseState.WANT,
    "question": CaseState.WANT,
    "offer": CaseState.WANT,
    "seller": CaseState.AWAITING_SELLER,
    "return_reason": CaseState.REASON,
    "return_condition": CaseState.CONDITION,
    "return_shipping": CaseState.RETURN_SHIPPING,
    "return_tracking": CaseState.RETURN_SHIPPING,
    "return_in_transit": CaseState.RETURN_IN_TRANSIT,
    "cancel_reason": CaseState.REASON,
    "cancel_confirm": CaseState.CANCEL_CONFIRM,
}


@steps
async def test_support_hands_back_a_case_escalated_at_any_step(desk: Desk, step: str) -> None:
    """The bot takes the case up again where it belongs, and asks the buyer its question with
    the buttons that answer it."""
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id, topic = await escalated_at(desk, step)
    seen = len(anna.inbox)
    await sam.send("/handback", topic=topic)
    assert "passed your request back" in anna.inbox[seen].plain
    assert (await desk.topic_name(case_id)).endswith("back with the bot")
    case = await desk.latest_case()
    assert case.state is HANDED_BACK_TO[step]
    if case.state is CaseState.AWAITING_SELLER:
        assert "A decision is needed" in desk.staff("dora").last.plain
    elif case.state is CaseState.RETURN_IN_TRANSIT:
        assert "passed your request back to the seller" in anna.last.plain
        assert "A return is on its way" in desk.staff("dora").last.plain
        await desk.staff("dora").click("refund in full")
        assert "Agreed: a refund of RUB2,000.00" in anna.last.plain
    else:
        assert anna.last.labels, anna.last.plain  # the next question, with its answers
        seen = len(anna.inbox)
        await anna.click(anna.last.labels[0])
        assert len(anna.inbox) > seen  # the conversation goes on
        assert (await desk.latest_case()).state is not CaseState.ESCALATED
    no_failure(desk, "sam")
