"""What was agreed stays owed: the promise to send an approved refund lives until the seller says
it went out, whatever happens to the case's conversation meanwhile (an escalation, support
resolving or handing back the case, a new request the buyer withdraws, a missed due time)."""

from __future__ import annotations

from bot.domain.enums import CaseState, PromiseKind, PromiseState, RefundStatus
from bot.domain.money import Money
from bot.storage.models import Promise
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow

SENT = "Refund of RUB600.00 sent"


async def accepted_then_escalated(desk: Desk) -> int:
    """Anna accepts 600 RUB (the seller now owes the refund), then asks for a person."""
    anna = desk.buyer("anna")
    await describe_defect(desk, price="2000")
    await anna.click("Accept")
    await anna.send("человек")
    case = await desk.latest_case()
    assert case.state is CaseState.ESCALATED
    return case.id


async def owed(desk: Desk, case_id: int) -> list[Promise]:
    return [
        p
        for p in await desk.promises(case_id)
        if p.kind is PromiseKind.REFUND_EXECUTION and p.state is PromiseState.OPEN
    ]


async def assert_sent(desk: Desk, case_id: int) -> None:
    """The seller's "Refund sent" worked: the buyer is told, the ledger and the promise agree."""
    assert "has sent your refund of RUB600.00" in desk.buyer("anna").last.plain
    [refund] = await desk.refunds()
    assert refund.status is RefundStatus.EXECUTED
    kept = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.REFUND_EXECUTION]
    assert kept and all(p.state is not PromiseState.OPEN for p in kept)
    assert kept[-1].state is PromiseState.KEPT


async def test_a_refund_owed_before_an_escalation_is_owed_after_support_resolves(
    desk: Desk,
) -> None:
    anna, dora, sam = desk.buyer("anna"), desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    assert len(await owed(desk, case_id)) == 1  # the escalation did not close it

    await sam.send("/resolve Sorted with the buyer.", topic=await desk.topic(case_id))
    assert "is resolved" in anna.last.plain
    assert "The seller will send your refund of RUB600.00 by" in anna.last.plain
    assert (await desk.topic_name(case_id)).endswith("resolved")
    case = await desk.latest_case()
    assert case.state is CaseState.EXECUTING  # the money has not moved yet
    assert len(await owed(desk, case_id)) == 1

    await dora.click(SENT)
    await assert_sent(desk, case_id)
    assert "Recorded: case" in dora.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_the_seller_may_send_the_refund_while_support_has_the_case(desk: Desk) -> None:
    dora, sam = desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    await dora.click(SENT)
    await assert_sent(desk, case_id)
    assert "still with support" in dora.last.plain
    assert "marked the refund of RUB600.00 as sent" in (await desk.in_topic(case_id))[-1].plain
    assert (await desk.latest_case()).state is CaseState.ESCALATED  # support still answers

    await sam.send("/resolve", topic=await desk.topic(case_id))
    assert (await desk.latest_case()).state is CaseState.RESOLVED  # nothing is owed any more
    await dora.click(SENT)
    assert dora.answers[-1] == f"Case #{case_id} is already marked done."


async def test_handing_back_a_case_with_a_refund_owed_leaves_it_with_the_seller(
    desk: Desk,
) -> None:
    anna, dora, sam = desk.buyer("anna"), desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    [before] = await owed(desk, case_id)
    await sam.send("/handback", topic=await desk.topic(case_id))
    assert "The seller will send your refund of RUB600.00 by" in anna.last.plain
    assert anna.last.labels == []  # no new request is started while the refund is owed
    assert (await desk.latest_case()).state is CaseState.EXECUTING
    assert [p.id for p in await owed(desk, case_id)] == [before.id]
    await dora.click(SENT)
    await assert_sent(desk, case_id)


async def test_a_second_refund_during_an_escalation_owes_both(desk: Desk) -> None:
    dora, sam = desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    await sam.send("/refund 100", topic=await desk.topic(case_id))
    first, second = await owed(desk, case_id)  # a new debt does not replace the first one
    assert first.due_at <= second.due_at
    await dora.click("Refund of RUB100.00 sent")
    assert [r.status for r in await desk.refunds()] == [RefundStatus.EXECUTED] * 2
    assert await owed(desk, case_id) == []


async def test_withdrawing_a_new_request_leaves_the_refund_owed(desk: Desk) -> None:
    anna, dora, sam = desk.buyer("anna"), desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    await sam.send("/offer 100", topic=await desk.topic(case_id))  # a further offer
    order = (await desk.latest_case()).order
    await open_flow(anna, "problem", order)
    await anna.tap("withdraw")
    case = await desk.latest_case()
    assert case.state is CaseState.EXECUTING
    assert len(await owed(desk, case_id)) == 1
    await dora.click(SENT)
    await assert_sent(desk, case_id)
    assert (await desk.refunded(order.number)) == Money.of("600", "RUB")


async def test_a_missed_refund_is_escalated_and_still_owed(desk: Desk) -> None:
    anna, dora, sam = desk.buyer("anna"), desk.staff("dora"), desk.staff("sam")
    await describe_defect(desk, price="2000")
    await anna.click("Accept")
    case_id = (await desk.latest_case()).id
    desk.later(days=3)
    assert (await desk.sweep()).breached == 1
    assert (await desk.latest_case()).state is CaseState.ESCALATED
    promises = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.REFUND_EXECUTION]
    assert [p.state for p in promises] == [PromiseState.BREACHED, PromiseState.OPEN]
    assert promises[1].replaces_id == promises[0].id

    await sam.send("/resolve", topic=await desk.topic(case_id))
    await dora.click(SENT)
    await assert_sent(desk, case_id)
    assert (await desk.latest_case()).state is CaseState.RESOLVED


async def test_a_refund_missed_while_support_has_the_case_stays_with_its_agent(
    desk: Desk,
) -> None:
    dora, sam = desk.staff("dora"), desk.staff("sam")
    case_id = await accepted_then_escalated(desk)
    topic = await desk.topic(case_id)
    await sam.send("/take", topic=topic)
    await sam.send("We are on it", topic=topic)  # support's reply: its promise is kept
    desk.later(days=3)
    assert (await desk.sweep()).breached == 1  # the seller's refund, not support's reply
    case = await desk.latest_case()
    assert (case.state, case.taken_by) == (CaseState.ESCALATED, 901)  # Sam keeps the case
    assert "Escalated: a promised reply time was missed" in (await desk.in_topic(case_id))[-1].plain
    [renewed] = await owed(desk, case_id)
    assert renewed.replaces_id is not None
    await dora.click(SENT)
    await assert_sent(desk, case_id)
