"""A part shipped again: the seller gives its tracking number after "Shipped", and the buyer
gets it (docs/offers-and-promises.md#reshipments)."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import CaseEvent
from tests.conversations.test_seller import missing_cable
from tests.desk import Desk


async def _shipped(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await missing_cable(desk)
    await dora.click("Approve")
    await anna.click("Accept")
    await dora.click("Shipped")
    assert "What is the parcel's tracking number" in dora.last.plain


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
