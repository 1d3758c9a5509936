"""Small answers that must be right: the limits, words and buttons a buyer, seller or support
member reads at one step (docs/conversations.md)."""

from __future__ import annotations

from bot.domain.money import Money
from tests.desk import Desk, open_flow


async def test_the_amount_prompt_shows_what_is_left_to_refund_on_the_order(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    order = await desk.order(items=[("Blender", 1, "1000")])
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="price_error")
    await anna.click("Keep it")
    await anna.send("700")
    await anna.click("Accept")
    await dora.click("sent")
    assert (await desk.refunded(order.number)) == Money.of("700", "RUB")

    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="price_error")
    await anna.click("Keep it")
    assert "up to RUB300.00" in anna.last.plain
    await anna.send("400")
    assert "more than the RUB300.00 available" in anna.last.plain
