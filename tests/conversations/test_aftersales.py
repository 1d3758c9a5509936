"""After a resolution the buyer is asked, once, how it went; the seller sees the answer, and a
low rating is a promise the seller keeps (docs/aftersales.md)."""

from __future__ import annotations

from bot.domain.enums import PromiseKind, PromiseState, Role
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

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
