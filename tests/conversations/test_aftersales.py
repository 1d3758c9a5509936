"""After a resolution the buyer is asked, once, how it went; the seller sees the answer, and a
low rating is a promise the seller keeps (docs/aftersales.md)."""

from __future__ import annotations

import asyncio

from bot.domain.enums import CaseState, PromiseKind, PromiseState, Role
from bot.domain.money import Money
from bot.runtime.sweeper import Sweeper
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow

STARS = ["★", "★★", "★★★", "★★★★", "★★★★★", "Skip"]


async def refunded(desk: Desk) -> int:
    """A 600 RUB refund, agreed at once and sent by Dora: the case is resolved."""
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="2000")
    await anna.click("Accept")
    await dora.click("Refund of RUB600.00 sent")
    assert "has sent your refund of RUB600.00" in anna.last.plain
    return (await desk.latest_case()).id


async def test_the_survey_comes_after_the_policy_s_delay_once(desk: Desk) -> None:
    anna = desk.buyer("anna")
    case_id = await refunded(desk)
    desk.later(hours=23)
    assert (await desk.sweep()).surveyed == 0  # survey_after = 1d

    desk.later(hours=1)
    assert (await desk.sweep()).surveyed == 1
    assert "Please rate it from 1 to 5 stars" in anna.last.plain
    assert anna.last.labels == STARS
    asked = len(anna.inbox)
    desk.later(days=2)
    assert (await desk.sweep()).surveyed == 0  # asked once, whatever the sweeps
    assert len(anna.inbox) == asked
    case = await desk.latest_case()
    assert case.id == case_id and case.surveyed_at is not None and case.rating is None


async def test_two_sweepers_at_once_ask_once(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await refunded(desk)
    desk.later(days=1)
    app = desk.sandbox.app
    sweepers = [Sweeper(db=app.db, clock=app.clock, engine=app.engine) for _ in range(2)]
    results = await asyncio.gather(*(s.sweep() for s in sweepers))
    await desk.sweep()  # delivers what they owe
    assert sum(r.surveyed for r in results) == 1
    assert sum("rate it from 1 to 5" in m.plain for m in anna.inbox) == 1


async def test_a_five_with_a_comment_is_shown_to_the_seller(desk: Desk) -> None:
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    case_id = await refunded(desk)
    desk.later(days=1)
    await desk.sweep()

    await anna.click("★★★★★")
    assert "Anything you'd like to add?" in anna.last.plain
    assert "get back to you" not in anna.last.plain
    for decider in (dora, dmitri):
        assert "The buyer rated the case 5 of 5." in decider.last.plain
        assert decider.last.labels == []  # nothing owed for a good rating
    await anna.send("Fast and polite, thank you")
    assert "Thank you" in anna.last.plain
    for decider in (dora, dmitri):
        assert "commented on their rating (5 of 5)" in decider.last.plain
        assert "“Fast and polite, thank you”" in decider.last.plain
    case = await desk.latest_case()
    assert (case.rating, case.rating_comment) == (5, "Fast and polite, thank you")
    assert case.rated_at is not None
    assert [p.kind for p in await desk.promises(case_id)] == [PromiseKind.REFUND_EXECUTION]

    await anna.click("★", message=next(m for m in anna.inbox if "rate it" in m.plain))
    assert anna.answers[-1] == "You have already rated this case."
    assert (await desk.latest_case()).rating == 5


async def test_a_two_opens_a_follow_up_the_seller_answers(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    case_id = await refunded(desk)
    desk.later(days=1)
    await desk.sweep()

    await anna.click("★★")
    # follow_up = 1d after the rating, in Berlin time
    assert "the seller will get back to you by Wed, Nov 18 07:00" in anna.last.plain
    assert "The buyer rated the case 2 of 5." in dora.last.plain
    assert "Please answer the buyer by" in dora.last.plain
    assert dora.last.labels == ["Answer the buyer"]
    await anna.click("Nothing to add")
    assert "Thank you" in anna.last.plain
    follow_up = (await desk.promises(case_id))[-1]
    assert (follow_up.kind, follow_up.owner_role, follow_up.state) == (
        PromiseKind.FOLLOW_UP,
        Role.SELLER,
        PromiseState.OPEN,
    )

    desk.later(hours=18)  # 75% of the day: the seller is reminded, as of any promise
    assert (await desk.sweep()).reminded == 1
    assert "was promised an answer to their low rating by Wed, Nov 18 07:00" in dora.last.plain

    await dora.click("Answer the buyer", message=next(m for m in dora.inbox if "2 of 5" in m.plain))
    await dora.send("Sorry about that, a coupon is on its way.")
    assert "answered your rating" in anna.last.plain
    assert "a coupon is on its way" in anna.last.plain
    assert "has been sent to the buyer" in dora.last.plain
    follow_up = (await desk.promises(case_id))[-1]
    assert (follow_up.kind, follow_up.state) == (PromiseKind.FOLLOW_UP, PromiseState.KEPT)


async def test_still_not_right_reopens_the_case_for_a_second_refund_the_seller_sets(
    desk: Desk,
) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    case_id = await refunded(desk)
    assert anna.last.labels == ["Still not right"]
    desk.later(days=3)

    await anna.click("Still not right")
    assert f"Your request #{case_id} about order" in anna.last.plain
    assert "is open again" in anna.last.plain
    assert anna.last.labels == ["Another refund", "A replacement", "Talk to a person"]
    await anna.click("Another refund")
    assert "passed this to the seller" in anna.last.plain
    card = dora.last
    assert "Still not right" in card.plain
    assert "First round: RUB600.00 refunded on" in card.plain
    assert "never approved automatically" in card.plain
    assert "Approve" not in " ".join(card.labels)  # no amount yet: the seller sets it
    case = await desk.latest_case()
    assert (case.id, case.state) == (case_id, CaseState.AWAITING_SELLER)
    assert len(await desk.cases()) == 1

    await dora.send("/pending")  # the same card again, saying what it is
    assert "First round: RUB600.00 refunded on" in dora.last.plain
    await dora.click("Set the amount")
    await dora.send("2000")  # more than is left of the 2000 paid
    assert "RUB1,400.00" in dora.last.plain
    await dora.send("400")
    assert "RUB400.00" in anna.last.plain
    await anna.click("Accept")
    await dora.click("Refund of RUB400.00 sent")
    assert [r.amount for r in await desk.refunds()] == [
        Money.of("600", "RUB"),
        Money.of("400", "RUB"),
    ]
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_words_about_the_problem_within_the_window_reopen_the_same_case(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    case_id = await refunded(desk)
    desk.later(days=13)
    await anna.send("the kettle doesnt work")
    assert "is open again" in anna.last.plain
    await anna.click("Talk to a person")
    case = await desk.latest_case()
    assert (case.id, case.state) == (case_id, CaseState.ESCALATED)
    assert len(await desk.cases()) == 1
    assert dora.last is not None


async def test_after_the_window_a_new_request_is_a_new_case_as_before(desk: Desk) -> None:
    anna = desk.buyer("anna")
    case_id = await refunded(desk)
    number = (await desk.latest_case()).order.number
    desk.later(days=15)  # follow_up_window = 14d
    await anna.send("the kettle doesnt work")
    assert "is open again" not in anna.last.plain
    await anna.click("Still not right")
    assert "is open again" not in anna.last.plain
    await open_flow(anna, "problem", number)
    await anna.click("A defect")
    case = await desk.latest_case()
    assert case.id != case_id and case.state is not CaseState.RESOLVED
    assert len(await desk.cases()) == 2


async def test_an_unanswered_low_rating_goes_to_support(desk: Desk) -> None:
    anna = desk.buyer("anna")
    case_id = await refunded(desk)
    desk.later(days=1)
    await desk.sweep()
    await anna.click("★")
    await anna.click("Nothing to add")

    desk.later(days=2)  # past the seller's day to answer
    assert (await desk.sweep()).breached == 1

    follow_up = next(p for p in await desk.promises(case_id) if p.kind is PromiseKind.FOLLOW_UP)
    assert follow_up.state is PromiseState.BREACHED
    case = await desk.latest_case()
    assert case.id == case_id and case.state is CaseState.ESCALATED
    topic = await desk.in_topic(case_id)
    [card] = [m for m in topic if "Escalated: a promised reply time was missed" in m.plain]
    assert "The buyer rated it 1 of 5." in card.plain
    assert "a person will write to you here by" in anna.last.plain
