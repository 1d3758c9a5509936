"""Support works escalated cases from a Telegram group, one topic per case: takes them over,
talks to the buyer through the bot, proposes, refunds, hands back, resolves."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, PromiseKind, PromiseState
from bot.domain.money import Money
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk, open_flow


async def escalated_by_anna(desk: Desk) -> int:
    """Anna asks for a person in the middle of her case."""
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Kettle", 1, "5000")])
    await open_flow(anna, "problem", order)
    await anna.tap("reason", reason="defect")
    await anna.send("человек")  # "a person", typed where a button was expected
    return (await desk.latest_case()).id


async def test_asking_for_a_person_opens_a_topic_with_the_case(desk: Desk) -> None:
    anna = desk.buyer("anna")
    case_id = await escalated_by_anna(desk)
    assert "handed your request to our support team" in anna.last.plain
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (
        CaseState.ESCALATED,
        EscalationReason.BUYER_ASKED,
    )
    assert case.escalated_from is CaseState.WANT
    assert (await desk.topic_name(case_id)).endswith("· waiting")
    summary = (await desk.in_topic(case_id))[-1]
    assert "Escalated: the buyer asked for a person" in summary.plain
    assert summary.labels == ["Take this case"]
    [promise] = [p for p in await desk.promises(case_id) if p.state is PromiseState.OPEN]
    assert (promise.kind, promise.owner_ref) == (PromiseKind.SUPPORT_REPLY, "support")


async def test_the_menu_button_asks_for_a_person_too(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order()
    await anna.send("/start")
    await anna.tap("menu_person")
    await anna.click(f"#{order.number}")
    case = await desk.latest_case()
    assert case.state is CaseState.ESCALATED
    assert "Escalated: the buyer asked for a person" in (await desk.in_topic(case.id))[-1].plain


async def test_an_agent_takes_over_and_messages_go_both_ways(desk: Desk) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await sam.click("Take this case", message=(await desk.in_topic(case_id))[-1])
    assert (await desk.topic_name(case_id)).endswith("taken by Sam")

    seen = len(anna.inbox)
    await sam.send("Hello Anna, could you show me <the lid> & the seal?", topic=topic)
    [relayed] = anna.inbox[seen:]
    assert relayed.plain == "Acme Goods:\nHello Anna, could you show me <the lid> & the seal?"
    [promise] = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.SUPPORT_REPLY]
    assert promise.state is PromiseState.KEPT

    await anna.send("Sure, here it is")
    await anna.send_photo(caption="the lid")
    from_anna = (await desk.in_topic(case_id))[-2:]
    assert from_anna[0].plain == "Anna:\nSure, here it is"
    assert len(from_anna[1].photos) == 1 and "the lid" in from_anna[1].plain
    assert not any(
        "choose one of the buttons" in m.plain for m in anna.inbox[seen:]
    )  # the bot kept quiet


async def test_an_agent_offers_a_refund_the_buyer_accepts(desk: Desk) -> None:
    anna, sam, dora = desk.buyer("anna"), desk.staff("sam"), desk.staff("dora")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await sam.send("/offer 1,5", topic=topic)
    assert "refund of RUB1.50" in anna.last.plain
    await anna.click("Accept")
    assert (await desk.refunded((await desk.latest_case()).order.number)) == Money.of("1.50", "RUB")
    assert "refund RUB1.50" in dora.last.plain  # the seller carries it out


async def test_an_agent_approves_a_refund_within_what_is_refundable(desk: Desk) -> None:
    sam, anna = desk.staff("sam"), desk.buyer("anna")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await sam.send("/refund 9999999", topic=topic)
    assert "more than the RUB5,000.00 available" in (await desk.in_topic(case_id))[-1].plain
    await sam.send("/refund 700", topic=topic)
    assert "Agreed: a refund of RUB700.00" in anna.last.plain
    [refund] = await desk.refunds()
    assert refund.amount == Money.of("700", "RUB")
    assert (await desk.topic_name(case_id)).endswith("resolved")


async def test_handing_back_returns_the_case_to_the_bot(desk: Desk) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    await sam.send("/handback", topic=await desk.topic(case_id))
    assert "passed your request back to me" in anna.last.plain
    await anna.tap("want", want="keep")  # the bot's conversation goes on
    assert "photo" in anna.last.plain
    case = await desk.latest_case()
    assert case.state is CaseState.EVIDENCE
    assert (await desk.topic_name(case_id)).endswith("back with the bot")


async def test_handing_back_a_breached_decision_returns_it_to_the_seller(desk: Desk) -> None:
    anna, sam, dora = desk.buyer("anna"), desk.staff("sam"), desk.staff("dora")
    await describe_defect(desk, price="5000")
    case_id = (await desk.latest_case()).id
    desk.later(days=2)
    await desk.sweep()
    await sam.send("/handback", topic=await desk.topic(case_id))
    assert "passed your request back to the seller" in anna.last.plain
    await dora.click("Approve")
    assert "the seller offers a refund of RUB1,500.00" in anna.last.plain


async def test_resolving_closes_the_topic_and_tells_the_buyer(desk: Desk) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    await sam.send(
        "/resolve We will send a new lid with your next order.", topic=await desk.topic(case_id)
    )
    assert "is resolved" in anna.last.plain and "a new lid" in anna.last.plain
    assert (await desk.latest_case()).state is CaseState.RESOLVED
    assert (await desk.topic_name(case_id)).endswith("resolved")


async def test_the_queue_lists_open_escalations_most_urgent_first(desk: Desk) -> None:
    sam = desk.staff("sam")
    first = await escalated_by_anna(desk)
    desk.later(hours=1)
    second = await escalated_by_anna(desk)
    chat, _ = await desk.topic(first)
    await sam.send("/queue", topic=(chat, None))  # in the group's General topic
    queue = [m for m in desk.sandbox.channel.inbox(chat) if "Open escalations" in m.plain][-1]
    assert queue.plain.index(f"case {first}") < queue.plain.index(f"case {second}")


async def test_only_support_members_may_act_on_the_desk(desk: Desk) -> None:
    dora, mallory = desk.staff("dora"), desk.buyer("mallory")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await dora.send("/take", topic=topic)
    await mallory.send("/refund 5000", topic=topic)
    await mallory.send("/queue")
    assert await desk.refunds() == []
    assert [(a.actor_id, a.action) for a in await desk.audit()] == [
        (501, "support.not_member"),
        (103, "support.not_member"),
        (103, "support.not_member"),
    ]
    assert (await desk.latest_case()).taken_by is None
    assert mallory.last.plain == "Sorry, that is not available to you."


async def test_an_amount_over_the_threshold_goes_to_support(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="200000")  # 30% is 60,000 RUB; the threshold is 30,000
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (
        CaseState.ESCALATED,
        EscalationReason.OVER_THRESHOLD,
    )
    assert "handed your request to our support team" in anna.last.plain
    assert "over the escalation threshold" in dora.last.plain
    assert "over the escalation threshold" in (await desk.in_topic(case.id))[-1].plain


async def test_a_buyer_with_an_unusual_return_history_goes_to_support(desk: Desk) -> None:
    anna = desk.buyer("anna")
    for _ in range(3):
        order = await desk.order(items=[("Kettle", 1, "5000")], seller="bizco")
        await open_flow(anna, "problem", order)
        await anna.tap("reason", reason="price_error")
        await anna.tap("want", want="keep")
        await anna.send("100")
        if "refund of RUB100.00" in anna.last.plain:
            await anna.click("Accept")  # a refund: what the return-history rule counts
    first, second, third = await desk.cases()
    assert [c.state for c in (first, second)] == [CaseState.EXECUTING] * 2
    assert (third.state, third.escalation_reason) == (
        CaseState.ESCALATED,
        EscalationReason.RETURN_HISTORY,
    )
    summary = (await desk.in_topic(third.id))[0].plain
    assert "refunds and returns with this seller in the last 3 months: 2, RUB200.00" in summary


async def test_support_is_reminded_and_a_missed_reply_is_owned_up_to(desk: Desk) -> None:
    anna = desk.buyer("anna")
    case_id = await escalated_by_anna(desk)
    desk.later(hours=3)  # 75% of support's 4 hours
    assert (await desk.sweep()).reminded == 1
    assert (await desk.topic_name(case_id)).endswith("due soon")
    assert "Due soon" in (await desk.in_topic(case_id))[-1].plain
    desk.later(hours=1)
    assert (await desk.sweep()).breached == 1
    assert "has not answered you in the time we promised" in anna.last.plain
    assert (await desk.topic_name(case_id)).endswith("reply overdue")
    support = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.SUPPORT_REPLY]
    assert [p.state for p in support] == [PromiseState.BREACHED, PromiseState.OPEN]
    assert support[1].replaces_id == support[0].id


async def test_a_command_in_a_resolved_cases_topic_is_refused_and_the_desk_goes_on(
    desk: Desk,
) -> None:
    """The refusal names the case; it is rendered before the command's work rolls back."""
    sam = desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await sam.send("/resolve", topic=topic)
    await sam.send("/refund 10", topic=topic)
    refused = (await desk.in_topic(case_id))[-1].plain
    assert refused == f"Case #{case_id} is not with support any more: it is resolved."
    assert await desk.refunds() == []
    second = await escalated_by_anna(desk)  # the group's next case is worked as usual
    await sam.send("/refund 700", topic=await desk.topic(second))
    assert [r.amount for r in await desk.refunds()] == [Money.of("700", "RUB")]


async def test_a_refused_command_never_applies_later_when_the_case_would_allow_it(
    desk: Desk,
) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    await sam.send("/handback", topic=topic)
    await sam.send("/refund 700", topic=topic)
    assert "is not with support any more" in (await desk.in_topic(case_id))[-1].plain
    await anna.send("человек")  # with support again: now a /refund would be applied
    assert (await desk.latest_case()).state is CaseState.ESCALATED
    desk.later(seconds=5)
    await sam.send("/queue", topic=(topic[0], None))
    assert await desk.refunds() == []
    assert not any("Agreed" in m.plain for m in anna.inbox)


async def test_withdrawing_a_case_support_has_is_refused_with_its_state(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await escalated_by_anna(desk)
    case = await desk.latest_case()
    await open_flow(anna, "problem", case.order.number)
    assert "You already have a request" in anna.last.plain
    await anna.click("Withdraw this request")
    assert anna.answers[-1] == (
        "This request can't be withdrawn any more: it is with our support team."
    )
    assert (await desk.latest_case()).state is CaseState.ESCALATED
    await anna.send("/start")  # her chat goes on
    assert "My orders" in anna.last.labels
