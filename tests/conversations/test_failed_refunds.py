"""A refund the seller sent did not go through: recorded with its reason, owed again under a
new promise, the buyer told, and then sent again (docs/offers-and-promises.md#failed-refunds)."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.enums import CaseState, PromiseKind, PromiseState, RefundStatus
from bot.domain.money import Money
from bot.storage.models import CaseEvent
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk


async def _refund_sent(desk: Desk) -> str:
    """A 600 RUB refund agreed at once and marked sent by Dora."""
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await describe_defect(desk, price="2000")
    await anna.click("Accept")
    await dora.click("Refund of RUB600.00 sent")
    assert dora.last.labels == ["The refund of RUB600.00 failed"]
    return number


async def test_a_failed_refund_is_recorded_told_renewed_and_sent_again(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await _refund_sent(desk)
    desk.later(hours=5)

    await dora.click("The refund of RUB600.00 failed")
    assert "did not go through? In one message, why" in dora.last.plain
    await dora.send("the buyer's card is closed")
    recorded = dora.inbox[-2].plain
    assert "Recorded: the refund of RUB600.00 on case" in recorded
    assert "failed (the buyer's card is closed)" in recorded
    assert dora.last.labels == ["Refund of RUB600.00 sent"]  # the card, to send it again
    assert "Failed earlier: a refund of RUB600.00" in dora.last.plain
    assert "(the buyer's card is closed)" in dora.last.plain
    assert "Your refund of RUB600.00 did not go through" in anna.last.plain
    assert "will send it again by" in anna.last.plain

    failed, again = await desk.refunds(number)
    assert (failed.status, failed.note) == (RefundStatus.FAILED, "the buyer's card is closed")
    assert (again.status, again.amount) == (RefundStatus.APPROVED, Money.of("600", "RUB"))
    assert await desk.refunded(number) == Money.of("600", "RUB")  # counted once, not twice
    case = await desk.latest_case()
    assert case.state is CaseState.EXECUTING
    first, renewed = await desk.promises(case.id)
    assert first.kind is renewed.kind is PromiseKind.REFUND_EXECUTION
    assert (first.state, renewed.state) == (PromiseState.KEPT, PromiseState.OPEN)
    assert renewed.replaces_id == first.id
    async with desk.db.session() as session:
        actions = await session.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == case.id)
        )
        assert "refund_failed" in list(actions)

    await dora.click("Refund of RUB600.00 sent")
    assert "has sent your refund of RUB600.00" in anna.last.plain
    failed, again = await desk.refunds(number)
    assert (failed.status, again.status) == (RefundStatus.FAILED, RefundStatus.EXECUTED)
    assert (await desk.latest_case()).state is CaseState.RESOLVED
    assert [p.state for p in await desk.promises(case.id)] == [PromiseState.KEPT] * 2


async def test_a_failed_refund_is_recorded_once(desk: Desk) -> None:
    dora = desk.staff("dora")
    number = await _refund_sent(desk)
    tapped = dora.inbox[-1]
    await dora.click("The refund of RUB600.00 failed", message=tapped)
    await dora.send("bank refused it")
    await dora.click("The refund of RUB600.00 failed", message=tapped)  # a second tap
    assert dora.answers[-1].startswith("That button belongs to an earlier step")
    assert [r.status for r in await desk.refunds(number)] == [
        RefundStatus.FAILED,
        RefundStatus.APPROVED,
    ]


async def test_a_failure_reason_must_be_said_and_short(desk: Desk) -> None:
    dora = desk.staff("dora")
    number = await _refund_sent(desk)
    await dora.click("The refund of RUB600.00 failed")
    await dora.send("   ")
    assert "In one message, why" in dora.last.plain
    await dora.send("x" * 10_000)
    assert "10,000 characters long" in dora.last.plain
    [refund] = await desk.refunds(number)
    assert refund.status is RefundStatus.EXECUTED
    await dora.send("card closed")
    assert [r.status for r in await desk.refunds(number)] == [
        RefundStatus.FAILED,
        RefundStatus.APPROVED,
    ]


async def test_failed_lists_the_refunds_sent_when_the_message_is_far_up(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    number = await _refund_sent(desk)
    case = await desk.latest_case()
    await dora.send("/failed")
    assert "Which refund did not go through?" in dora.last.plain
    assert dora.last.labels == [f"Case #{case.id}: the refund of RUB600.00 failed"]
    await dora.click(f"Case #{case.id}")
    await dora.send("the marketplace refused it")
    assert "Your refund of RUB600.00 did not go through" in anna.last.plain
    assert [r.status for r in await desk.refunds(number)] == [
        RefundStatus.FAILED,
        RefundStatus.APPROVED,
    ]
    await dora.send("/failed")
    assert "No refund of yours is marked sent" in dora.last.plain
    await anna.send("/failed")
    assert anna.last.plain == "Sorry, that is not available to you."
