"""A part shipped again: the seller gives its tracking number after "Shipped", and the buyer
gets it (docs/offers-and-promises.md#reshipments)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.domain.enums import CaseState, EscalationReason, ItemSettlement, Role
from bot.runtime.sweeper import Sweeper
from bot.storage.models import CaseEvent
from tests.conversations.test_seller import missing_cable
from tests.desk import Desk, open_flow


async def _shipped(desk: Desk) -> str:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await missing_cable(desk)
    await dora.click("Approve")
    await anna.click("Accept")
    await dora.click("Shipped")
    assert "What is the parcel's tracking number" in dora.last.plain
    return number


async def test_the_seller_s_tracking_number_goes_to_the_buyer(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await _shipped(desk)
    await dora.send(" rr 1234-5678 9cn ")
    assert "Recorded: tracking number RR1234-56789CN" in dora.last.plain
    assert "Your parcel's tracking number is RR1234-56789CN" in anna.last.plain
    case = await desk.latest_case()
    assert case.reship_tracking == "RR1234-56789CN"
    async with desk.db.session() as session:
        actions = list(
            await session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))
        )
    assert "reship_tracking" in actions


async def test_an_empty_or_absurd_tracking_number_is_asked_again(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await _shipped(desk)
    told = len(anna.inbox)
    for bad in ("  ", "x" * 10_000, "RR 12 <b>", "ab"):
        await dora.send(bad)
        assert "That doesn't look like a tracking number" in dora.last.plain
    assert len(anna.inbox) == told
    assert (await desk.latest_case()).reship_tracking is None
    await dora.send("RR123456789CN")
    assert "Your parcel's tracking number is RR123456789CN" in anna.last.plain


async def _tracked(desk: Desk) -> int:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await _shipped(desk)
    await dora.send("RR123456789CN")
    assert "Your parcel's tracking number is RR123456789CN" in anna.last.plain
    assert anna.last.labels == ["It arrived", "It hasn't arrived"]
    case = await desk.latest_case()
    assert case.state is CaseState.AWAITING_DELIVERY and case.survey_due_at is None
    return case.id


async def test_the_buyer_says_it_arrived_and_the_case_is_resolved_with_its_survey(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    case_id = await _tracked(desk)
    desk.later(days=2)
    await anna.click("It arrived")
    assert "Glad it arrived! Your request about order" in anna.last.plain
    assert anna.last.labels == ["Still not right"]
    case = await desk.latest_case()
    assert case.id == case_id and case.state is CaseState.RESOLVED
    assert case.survey_due_at is not None  # the survey is about the item delivered
    desk.later(days=1)
    assert (await desk.sweep()).surveyed == 1
    assert "rate it from 1 to 5" in anna.last.plain


async def test_unconfirmed_it_counts_as_delivered_after_the_policy_s_delay_once(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    await _tracked(desk)
    desk.later(days=20)
    assert (await desk.sweep()).delivered == 0  # delivered_after = 21d
    assert (await desk.latest_case()).state is CaseState.AWAITING_DELIVERY
    desk.later(days=1)
    app = desk.sandbox.app
    sweepers = [Sweeper(db=app.db, clock=app.clock, engine=app.engine) for _ in range(2)]
    results = await asyncio.gather(*(s.sweep() for s in sweepers))
    await desk.sweep()  # delivers what they owe
    assert sum(r.delivered for r in results) == 1
    assert sum("should have reached you by now" in m.plain for m in anna.inbox) == 1
    assert (await desk.sweep()).delivered == 0
    case = await desk.latest_case()
    assert case.state is CaseState.RESOLVED and case.survey_due_at is not None
    async with desk.db.session() as session:
        events = list(
            await session.scalars(
                select(CaseEvent).where(
                    CaseEvent.case_id == case.id, CaseEvent.action == "delivered"
                )
            )
        )
    assert [e.actor_role for e in events] == [Role.POLICY]


async def test_it_hasn_t_arrived_goes_to_support_once_the_expected_time_passed(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    await _tracked(desk)
    desk.later(days=3)
    await anna.click("It hasn't arrived")
    assert "Parcels can take a while" in anna.last.plain  # delivery_expected = 7d
    assert (await desk.latest_case()).state is CaseState.AWAITING_DELIVERY
    desk.later(days=5)
    await anna.click("It hasn't arrived")
    assert "I've handed your request to our support team" in anna.last.plain
    case = await desk.latest_case()
    assert case.state is CaseState.ESCALATED
    assert case.escalation_reason is EscalationReason.NOT_DELIVERED
    desk.later(days=30)
    assert (await desk.sweep()).delivered == 0  # support has it: not resolved behind its back


async def test_a_parcel_on_its_way_cannot_be_withdrawn(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await _shipped(desk)
    await open_flow(anna, "problem", number)
    assert "it is shipped, on its way to you" in anna.last.plain
    await anna.click("Withdraw this request")
    assert "can't be withdrawn any more: it is shipped, on its way to you" in anna.answers[-1]
    assert (await desk.latest_case()).state is CaseState.AWAITING_DELIVERY


async def _replacement_shipped(desk: Desk) -> None:
    """A wrong item, replaced: Anna still holds the one sent by mistake."""
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Blue kettle", 1, "2500")])
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="wrong_item")
    await anna.tap("want", want="replace")
    await anna.send_photo()
    await anna.tap("photos_done")
    await dora.click("Approve")
    await anna.click("Accept")
    await dora.click("Shipped")
    assert "What is the parcel's tracking number" in dora.last.plain
    recorded = dora.inbox[-2]
    assert "is on its way" in recorded.plain
    assert recorded.labels == ["The buyer keeps it", "Return it at my cost"]


async def _settlements(desk: Desk, case_id: int) -> list[dict[str, object]]:
    async with desk.db.session() as session:
        return list(
            await session.scalars(
                select(CaseEvent.detail).where(
                    CaseEvent.case_id == case_id, CaseEvent.action == "item_settled"
                )
            )
        )


async def test_the_buyer_keeps_the_wrongly_sent_item_and_is_told(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await _replacement_shipped(desk)
    await dora.click("The buyer keeps it")
    assert "the buyer keeps the item the replacement replaces" in dora.last.plain
    assert "the seller says you can keep it. There is nothing to send back" in anna.last.plain
    case = await desk.latest_case()
    assert case.item_settlement is ItemSettlement.KEEP
    assert await _settlements(desk, case.id) == [{"settlement": "keep"}]
    await dora.click("Return it at my cost")  # settled once: the other button is stale
    assert (await desk.latest_case()).item_settlement is ItemSettlement.KEEP
    assert len(await _settlements(desk, case.id)) == 1
    assert await desk.refunds() == []
    await dora.send("RR123456789CN")  # the tracking number still goes out
    await anna.click("It arrived")
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_the_wrongly_sent_item_goes_back_at_the_seller_s_cost(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await _replacement_shipped(desk)
    await dora.click("Return it at my cost")
    assert "The buyer has been told how" in dora.last.plain
    told = anna.last.plain
    assert "the seller asks you to send it back, at their cost" in told
    assert "Pack the item (Blue kettle)" in told and "Return shipping is paid by the seller" in told
    case = await desk.latest_case()
    assert case.item_settlement is ItemSettlement.RETURN
    assert case.state is CaseState.AWAITING_DELIVERY
    assert await _settlements(desk, case.id) == [{"settlement": "return"}]
    assert await desk.refunds() == []  # no refund is due for it


async def test_a_reship_of_a_missing_part_has_nothing_to_settle(desk: Desk) -> None:
    dora = desk.staff("dora")
    await _shipped(desk)
    assert "The buyer keeps it" not in dora.inbox[-2].labels
