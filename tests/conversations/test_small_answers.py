"""Small answers that must be right: the limits, words and buttons a buyer, seller or support
member reads at one step (docs/conversations.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.enums import CaseState, PromiseKind, PromiseState, Reason
from bot.domain.money import Money
from bot.services import cases
from bot.storage.models import Case
from tests.conversations.test_returns import start_return
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


async def test_writing_again_after_a_question_adds_to_it_and_the_promise_stands(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await open_flow(anna, "problem", await desk.order())
    await anna.tap("reason", reason="other")
    await anna.tap("want", want="answer")
    await anna.send("How do I descale it?")
    assert "an answer by Mon, Nov 16 11:00" in anna.last.plain
    await anna.send("And can I use citric acid?")
    assert "choose one of the buttons" not in anna.inbox[-2].plain + anna.last.plain
    assert "added that to your question" in anna.last.plain
    assert "an answer by Mon, Nov 16 11:00" in anna.last.plain  # the same promise
    assert "And can I use citric acid?" in dora.last.plain
    await dora.click("Answer the buyer")
    await dora.send("Yes, 2 spoons a litre.")
    assert "Yes, 2 spoons a litre." in anna.last.plain
    case = await desk.latest_case()
    assert case.question == "How do I descale it?\n\nAnd can I use citric acid?"
    [promise] = await desk.promises(case.id)
    assert (promise.kind, promise.state) == (PromiseKind.FIRST_REPLY, PromiseState.KEPT)


@pytest.mark.engine_only  # a sweep over the engine's states; the frameworks add nothing here
async def test_choose_a_button_is_never_said_without_buttons(desk: Desk) -> None:
    """Whatever step a buyer's case is at, typing there never gets the hint with no buttons."""
    anna = desk.buyer("anna")
    order = await desk.order()
    await open_flow(anna, "problem", order)
    case = await desk.latest_case()
    for state in CaseState:
        async with desk.db.session() as session, session.begin():
            stored = await session.get(Case, case.id)
            assert stored is not None
            stored.state = state
        await anna.send(f"hello at {state}?")
        await anna.send_unsupported("sticker")
    inbox = anna.inbox
    for hint, after in zip(inbox, [*inbox[1:], None], strict=True):
        if "choose one of the buttons" in hint.plain:
            assert after is not None and after.buttons, f"no buttons after {hint.plain!r}"


async def test_a_photo_over_the_size_limit_is_told_what_is_wrong_and_what_to_do(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    await open_flow(anna, "problem", await desk.order(items=[("Kettle", 1, "5000")]))
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    await anna.send_photo(size=11 * 1024 * 1024)  # the shipped limit is 10 MB
    told = anna.inbox[-2].plain
    assert "That photo is too large for me to keep: I keep photos up to 10 MB." in told
    assert "send a smaller one" in told and "not a file" not in told
    assert "Please send a photo that shows the problem" in anna.last.plain  # asked again


async def test_cancel_offers_the_common_reasons_and_other_asks_for_a_few_words(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Lamp", 1, "1500")], status="confirmed")
    await open_flow(anna, "cancel", order)
    assert anna.last.labels == [
        "I changed my mind",
        "The price dropped, or I found it cheaper",
        "I ordered it by mistake",
        "The delivery date is too late",
        "Something else",
    ]
    await anna.click("Something else")
    assert "A few words are enough" in anna.last.plain and not anna.last.buttons
    await anna.send("My sister gave me one for my birthday")
    assert "you get back everything you paid: RUB1,500.00" in anna.last.plain
    await anna.click("Yes, cancel it")
    [refund] = await desk.refunds(order.number)
    assert refund.reason is Reason.OTHER
    case = await desk.latest_case()
    async with desk.db.reading() as tx:
        history = await cases.history_of(tx, case.id)
    notes = [e.detail["note"] for e in history if e.action == "reason_note"]
    assert notes == ["My sister gave me one for my birthday"]


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("I found it cheaper", Reason.FOUND_CHEAPER),
        ("by mistake", Reason.ORDERED_BY_MISTAKE),
        ("delivery date", Reason.DELIVERY_TOO_LATE),
    ],
)
async def test_each_common_cancel_reason_is_recorded_with_the_refund(
    desk: Desk, label: str, reason: Reason
) -> None:
    anna = desk.buyer("anna")
    lamp = await desk.order(items=[("Lamp", 1, "1500")], status="placed")
    await open_flow(anna, "cancel", lamp)
    await anna.click(label)
    await anna.click("Yes, cancel it")
    assert [r.reason for r in await desk.refunds(lamp.number)] == [reason]


async def test_the_seller_attaches_photos_to_a_deduction_and_the_buyer_sees_them(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await start_return(desk)
    await anna.click("I've sent it")
    await anna.send("RR123456785DE")
    await dora.click("with a deduction")
    await dora.send_photo(size=80_000)
    assert "Photo 1 kept" in dora.last.plain and "send the amount" in dora.last.plain
    await dora.send("700")
    await dora.send_photo(caption="The ear cushion is torn")  # a caption is the reason
    shown = anna.last  # the photos come with the deduction they are for, and the outcome
    assert "deducted RUB700.00: The ear cushion is torn (their photos above)" in shown.plain
    assert len(shown.photos) == 2
    assert "You get back RUB4,500.00" in shown.plain
    async with desk.db.reading() as tx:
        kept = await cases.evidence_of(tx, (await desk.latest_case()).id)
    assert [p.file_id for p in kept][-2:] == list(shown.photos)  # support's summary shows them


async def test_questions_cancellations_and_drafts_are_no_return_history(desk: Desk) -> None:
    anna = desk.buyer("anna")  # Biz & Co sends a third refund or return in 90 days to support
    await open_flow(anna, "problem", await desk.order(seller="bizco"))
    await anna.tap("reason", reason="other")
    await anna.tap("want", want="answer")
    await anna.send("Does it come with a warranty?")
    await open_flow(anna, "problem", await desk.order(seller="bizco"))  # left as a draft
    await open_flow(anna, "cancel", await desk.order(seller="bizco", status="confirmed"))
    await anna.click("I changed my mind")
    await anna.click("Yes, cancel it")
    await open_flow(anna, "problem", await desk.order(seller="bizco"))
    await anna.tap("reason", reason="price_error")
    await anna.tap("want", want="keep")
    await anna.send("100")
    assert "refund of RUB100.00" in anna.last.plain  # not handed to support
    assert (await desk.latest_case()).escalation_reason is None


def test_only_the_router_sends_the_button_hint() -> None:
    """The hint's one sender checks that buttons follow it (bot/engine/router.py); a handler
    sending it directly could say it above a question with none."""
    root = Path(__file__).parents[2]
    senders = {
        str(path.relative_to(root))
        for folder in ("bot", "handlers")
        for path in (root / folder).rglob("*.py")
        if "common/use_buttons" in path.read_text(encoding="utf-8")
    }
    assert senders == {"bot/engine/router.py"}
