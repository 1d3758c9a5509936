"""Bad input gets a clear answer and loses nothing: text where a button was expected, malformed
and out-of-range amounts, someone else's order, stale and replayed buttons, huge messages."""

from __future__ import annotations

import pytest

from bot.domain.enums import CaseState, OfferStatus
from bot.domain.money import Money
from handlers.payloads import BuyerOffer, PickOrder, SellerOffer
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow


async def test_text_where_a_button_is_expected_repeats_the_question(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    asked = anna.last
    await anna.send("well, you see!!!")
    hint, again = anna.inbox[-2:]
    assert "choose one of the buttons" in hint.plain
    assert (again.plain, again.labels) == (asked.plain, asked.labels)
    assert (await desk.latest_case()).state is CaseState.REASON


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("-3", "can't be negative"),
        ("0", "must be more than zero"),
        ("abc", "just the amount as a number"),
        ("3e5", "just the amount as a number"),
        ("0.555", "too many decimal places"),
        ("9999999", "more than the RUB5,000.00 available"),
    ],
)
async def test_bad_amounts_are_explained_and_the_seller_can_try_again(
    desk: Desk, typed: str, answer: str
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="5000")
    await dora.click("Change the amount")
    await dora.send(typed)
    assert answer in dora.last.plain
    case = await desk.latest_case()
    assert case.state is CaseState.AWAITING_SELLER
    assert [o.status for o in await desk.offers(case.id)] == [OfferStatus.PENDING_SELLER]
    await dora.send("1,5")  # a Russian-style decimal comma
    assert "refund of RUB1.50" in anna.last.plain


async def test_someone_elses_order_is_not_found_and_audited(desk: Desk) -> None:
    anna, mallory = desk.buyer("anna"), desk.buyer("mallory")
    annas = await desk.order("anna")
    await desk.order("mallory")
    await mallory.send("/start")
    await mallory.click("Something is wrong")
    await mallory.send(annas.number)
    assert f"couldn't find an order {annas.number} among yours" in mallory.last.plain
    # The same answer as for a number that does not exist at all: nothing leaks.
    await mallory.send("NO-SUCH-1")
    assert "couldn't find an order NO-SUCH-1 among yours" in mallory.last.plain
    # A forged button for Anna's order is refused too.
    await mallory.press(PickOrder(flow="problem", order_id=annas.id).pack())
    assert "couldn't find that order" in mallory.answers[-1]
    actions = [(a.actor_id, a.action, a.allowed) for a in await desk.audit()]
    assert actions == [(103, "buyer.foreign_order", False), (103, "buyer.foreign_order", False)]
    assert anna.inbox == []


async def test_buyer_cannot_answer_an_offer_made_to_someone_else(desk: Desk) -> None:
    anna, mallory = desk.buyer("anna"), desk.buyer("mallory")
    number = await describe_defect(desk, price="2000")
    accept = anna.button("Accept")
    await mallory.send("/start")  # a forged press needs a message of the bot's in her chat
    await mallory.press(accept)
    assert mallory.answers[-1] == "Sorry, that is not available to you."
    assert await desk.refunds(number) == []
    [entry] = await desk.audit()
    assert (entry.actor_id, entry.action) == (103, "buyer.foreign_case")


async def test_only_the_sellers_deciders_may_decide(desk: Desk) -> None:
    anna, li = desk.buyer("anna"), desk.staff("li")
    await describe_defect(desk, price="5000")
    case = await desk.latest_case()
    [offer] = await desk.offers(case.id)
    # Li decides for another seller; Anna is the buyer. Neither may approve Acme's offer.
    await li.send("/start")
    await li.press(SellerOffer(offer_id=offer.id, action="approve").pack())
    await anna.press(SellerOffer(offer_id=offer.id, action="approve").pack())
    assert li.answers[-1] == desk.text("common/not_allowed", "zh")
    assert anna.answers[-1] == "Sorry, that is not available to you."
    [offer] = await desk.offers(case.id)
    assert offer.status is OfferStatus.PENDING_SELLER
    assert [a.action for a in await desk.audit()] == ["seller.not_decider", "seller.not_decider"]


async def test_a_stale_button_changes_nothing(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    reasons = anna.last
    await anna.click("A defect")
    await anna.click("Something else", message=reasons)  # an earlier step's button
    assert anna.answers[-1].startswith("That button belongs to an earlier step")
    case = await desk.latest_case()
    assert case.reason == "defect"
    await anna.press("zz:not-a-payload")
    await anna.press(BuyerOffer(offer_id=999, action="accept").pack())
    assert len(anna.answers) == 3


@pytest.mark.engine_only  # through Telegram: tests/telegram/test_exactly_once.py
async def test_a_replayed_update_is_applied_once(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")
    accept = anna.button("Accept")
    first = await anna.press(accept, key="tg:42")
    replay = await anna.press(accept, key="tg:42")
    assert not first.duplicate and replay.duplicate
    assert [r.amount for r in await desk.refunds(number)] == [Money.of("600", "RUB")]
    assert sum("Agreed" in m.plain for m in anna.inbox) == 1


async def test_a_double_tap_on_accept_refunds_once(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")
    accept = anna.button("Accept")
    await anna.press(accept)
    await anna.press(accept)
    assert anna.answers[-1].startswith("That button belongs to an earlier step")
    assert len(await desk.refunds(number)) == 1


@pytest.mark.engine_only  # Telegram itself cuts a user's message at 4096 characters
async def test_a_ten_thousand_character_message_is_refused_politely_and_kept(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    await anna.click("Something else")
    await anna.click("Just an explanation")
    essay = "Why does it whistle?" + "!" * 9_980
    await anna.send(essay)
    assert "10,000 characters long" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.QUESTION
    from sqlalchemy import select

    from bot.storage.models import TranscriptEntry

    async with desk.db.session() as session:
        kept = await session.scalar(
            select(TranscriptEntry.text).where(TranscriptEntry.text == essay)
        )
    assert kept == essay  # the transcript keeps what the buyer wrote, in full


async def test_hostile_html_is_shown_as_text(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="2000")
    await anna.click("Decline")
    await anna.send('<b>bold</b> & <script>alert("x")</script>')
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in dora.last.text
    assert '<b>bold</b> & <script>alert("x")</script>' in dora.last.plain


async def test_a_sticker_or_a_photo_at_the_wrong_step_gets_a_clear_answer(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await desk.order()
    await anna.send("/start")
    await anna.send_unsupported("sticker")
    assert (
        "can't use that kind of message" in anna.inbox[-1].plain
        or "can't use that" in anna.inbox[-2].plain
    )
    await anna.send_photo()
    assert any("can't use a photo at this step" in m.plain for m in anna.inbox[-2:])


async def test_commands_work_in_the_middle_of_a_step(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    await anna.send("/orders")
    assert f"#{order.number}" in anna.last.plain
    await anna.send("/cancel")
    assert "Stopped" in anna.last.plain
