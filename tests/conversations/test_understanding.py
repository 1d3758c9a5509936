"""Buyers who type instead of tapping are understood (docs/understanding.md): the reason they
give skips the reason question and is said back with a button to change it, asking for a
person in their own words reaches support, "where is my refund" tells where the request stands.
"""

from __future__ import annotations

from bot.domain.enums import CaseKind, CaseState, Reason
from tests.conversations.test_claiming import ASKED, NUMBER, unclaimed_order
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow

CABLE = [("Колонка", 1, "9000"), ("Кабель USB-C", 2, "250")]


async def test_ivan_types_that_the_cable_is_missing_and_the_flow_goes_on(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    await desk.order("ivan", items=CABLE, seller="lucky-dragon")
    await ivan.send("/start")
    await ivan.send("не хватает кабеля")

    case = await desk.latest_case()
    assert (case.kind, case.reason) == (CaseKind.PROBLEM, Reason.MISSING_ITEMS)
    confirmed = ivan.inbox[-2]
    assert confirmed.plain == "Понял: Чего-то не хватает."
    assert confirmed.labels == ["Изменить причину"]
    assert case.state is CaseState.ITEM  # the next question: which item
    await ivan.click("Кабель USB-C ×2")
    assert (await desk.latest_case()).state is CaseState.QUANTITY


async def test_a_reason_typed_at_the_reason_question_is_taken_and_can_be_changed(
    desk: Desk,
) -> None:
    ivan = desk.buyer("ivan")
    order = await desk.order("ivan", items=CABLE, seller="lucky-dragon")
    await open_flow(ivan, "problem", order)
    assert (await desk.latest_case()).state is CaseState.REASON
    await ivan.send("в коробке нет кабеля!!")
    assert "Понял: Чего-то не хватает." in ivan.inbox[-2].plain
    assert (await desk.latest_case()).reason is Reason.MISSING_ITEMS

    await ivan.tap("change_reason")
    case = await desk.latest_case()
    assert (case.state, case.reason) == (CaseState.REASON, None)
    await ivan.tap("reason", reason="defect")
    assert (await desk.latest_case()).reason is Reason.DEFECT


async def test_asking_for_an_operator_in_words_at_the_menu_reaches_support(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    order = await desk.order("ivan", seller="lucky-dragon")
    await ivan.send("/start")
    await ivan.send("позовите оператора")
    await ivan.click(f"#{order.number}")  # which order, as the menu's "talk to a person" asks
    assert (await desk.latest_case()).state is CaseState.ESCALATED


async def test_a_person_asked_for_in_english_and_chinese_is_a_person(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order("anna")
    await open_flow(anna, "problem", order)
    await anna.send("I want to speak to a manager")  # at the reason question
    assert (await desk.latest_case()).state is CaseState.ESCALATED


async def test_where_is_my_refund_tells_the_state_of_the_open_case(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order("anna", items=[("Kettle", 1, "20000")])
    await open_flow(anna, "problem", order)
    await anna.click("A defect")
    await anna.click("Keep it, get part of the money back")
    await anna.send_photo(caption="scratch on the lid")
    await anna.click("That's all the photos")
    assert (await desk.latest_case()).state is CaseState.AWAITING_SELLER
    await anna.send("/cancel")

    await anna.send("where is my refund??")
    assert anna.last.plain.startswith(f"Your request about order #{order.number} is")
    assert "Next answer by" in anna.last.plain


async def test_where_is_my_refund_without_a_request_says_there_is_none(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await desk.order("anna")
    await anna.send("any news?")
    assert anna.last.plain.startswith("You have no open requests right now.")
    assert "Talk to a person" in anna.last.labels


async def test_a_cancellation_with_its_reason_and_order_number_in_one_message(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    await desk.order("ivan", status="placed", seller="lucky-dragon")
    other = await desk.order("ivan", status="placed", seller="lucky-dragon")
    await ivan.send(f"отмените заказ {other.number} нашла дешевле")
    case = await desk.latest_case()
    assert (case.order_id, case.kind) == (other.id, CaseKind.CANCEL)
    assert case.reason is Reason.FOUND_CHEAPER
    assert case.state is CaseState.CANCEL_CONFIRM


async def test_a_reason_without_an_order_waits_while_the_buyer_picks_one(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await desk.order("anna")
    second = await desk.order("anna")
    await anna.send("the kettle doesnt work")
    await anna.click(f"#{second.number}")
    case = await desk.latest_case()
    assert (case.order_id, case.reason) == (second.id, Reason.DEFECT)


async def test_someone_elses_order_number_in_words_is_not_found_and_audited(desk: Desk) -> None:
    anna, ivan = desk.buyer("anna"), desk.buyer("ivan")
    await desk.order("anna")
    foreign = await desk.order("ivan", seller="lucky-dragon")
    await anna.send(f"return {foreign.number} please")
    assert foreign.number in anna.last.plain and "couldn't find" in anna.last.plain
    assert [a.action for a in await desk.audit()] == ["buyer.foreign_order"]
    assert await desk.cases() == []
    assert ivan.inbox == []


async def test_a_greeting_gets_the_menu_and_nonsense_gets_todays_answer(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await desk.order("anna")
    await anna.send("hello there")
    assert anna.last.plain.startswith("Hello, Anna!")
    await anna.send("asdfgh")
    assert anna.last.plain.startswith("I didn't quite get that.")
    assert "Talk to a person" in anna.last.labels


async def test_words_at_the_order_question_are_understood_not_looked_up(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    await desk.order("ivan", seller="lucky-dragon")
    second = await desk.order("ivan", seller="lucky-dragon")
    await ivan.send("/start")
    await ivan.tap("menu_problem")
    await ivan.send("колонка не включается")  # no number: the question again, the reason kept
    assert any(label.startswith(f"#{second.number}") for label in ivan.last.labels)
    await ivan.click(f"#{second.number}")
    assert (await desk.latest_case()).reason is Reason.DEFECT
    assert await desk.audit() == []


async def test_at_an_offer_only_asking_for_a_person_is_taken_from_words(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await describe_defect(desk, price="2000")
    offered = anna.last
    assert offered.labels == ["Accept", "Decline"]
    await anna.send("it's broken, I want my money")  # the offer again, with the hint
    assert (anna.last.plain, anna.last.labels) == (offered.plain, offered.labels)
    await anna.send("can i talk to a real human pls")
    assert (await desk.latest_case()).state is CaseState.ESCALATED


async def test_an_unclaimed_order_number_in_words_asks_the_sellers_check(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await unclaimed_order(desk)
    await anna.send(f"the kettle doesnt work, order {NUMBER}")
    assert ASKED in anna.last.plain
    await anna.send("1234")
    assert (await desk.get_order(NUMBER)).buyer_id == 101
    case = await desk.latest_case()
    assert case.kind is CaseKind.PROBLEM  # the flow the words asked for
    assert case.state is CaseState.REASON  # the reason did not wait through the check
