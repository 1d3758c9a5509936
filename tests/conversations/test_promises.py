"""Promises keep themselves: the owner is reminded at 75% of the window, a missed promise goes
to support at once with the buyer told honestly, and nothing is done twice
(docs/design.md#promises-are-rows)."""

from __future__ import annotations

import asyncio

from bot.domain.enums import CaseState, EscalationReason, PromiseKind, PromiseState, Role
from bot.runtime.sweeper import Sweeper
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk


async def waiting_for_dora(desk: Desk) -> int:
    """A 1,500 RUB offer waits for Acme's decision: due in 1d (Tue 07:00 Berlin), warned at 18h."""
    await describe_defect(desk, price="5000")
    return (await desk.latest_case()).id


async def test_a_seller_who_never_answers_is_reminded_then_support_takes_over(desk: Desk) -> None:
    anna, dora, dmitri = desk.buyer("anna"), desk.staff("dora"), desk.staff("dmitri")
    case_id = await waiting_for_dora(desk)
    desk.later(hours=17)
    assert (await desk.sweep()).reminded == 0  # not yet at 75% of the day

    desk.later(hours=1)  # 18h: 75%
    assert (await desk.sweep()).reminded == 1
    for decider in (dora, dmitri):
        reminder, card = decider.inbox[-2:]
        assert "Reminder:" in reminder.plain and "Tue, Nov 17 07:00" in reminder.plain
        assert card.labels[0] == "Approve RUB1,500.00"  # the decision, one tap away
    assert (await desk.sweep()).reminded == 0  # once only

    desk.later(hours=6)  # 24h: due
    assert (await desk.sweep()).breached == 1
    assert "the answer we promised you is late" in anna.last.plain
    assert "by Tue, Nov 17 11:00" in anna.last.plain  # support's promise: 4h, in Berlin time
    assert "because a promised reply time was missed" in dora.last.plain
    case = await desk.latest_case()
    assert (case.state, case.escalation_reason) == (CaseState.ESCALATED, EscalationReason.BREACH)
    promises = await desk.promises(case_id)
    assert [(p.kind, p.owner_role, p.state) for p in promises] == [
        (PromiseKind.SELLER_DECISION, Role.SELLER, PromiseState.BREACHED),
        (PromiseKind.SUPPORT_REPLY, Role.SUPPORT, PromiseState.OPEN),
    ]
    summary = (await desk.in_topic(case_id))[-1]
    assert "Escalated: a promised reply time was missed" in summary.plain
    assert "Anna" in summary.plain and "Kettle" in summary.plain
    assert (await desk.topic_name(case_id)).endswith("reply overdue")


async def test_an_answer_at_74_percent_keeps_the_promise_and_nobody_is_reminded(desk: Desk) -> None:
    dora = desk.staff("dora")
    case_id = await waiting_for_dora(desk)
    desk.later(hours=17, minutes=45)
    await desk.sweep()
    await dora.click("Approve")
    desk.later(hours=12)
    assert (await desk.sweep()).breached == 0
    [promise] = await desk.promises(case_id)
    assert promise.state is PromiseState.KEPT and promise.reminded_at is None
    assert not any("Reminder:" in m.plain for m in dora.inbox)


async def test_an_answer_at_101_percent_comes_after_support_took_over(desk: Desk) -> None:
    dora = desk.staff("dora")
    case_id = await waiting_for_dora(desk)
    for hours in (18, 6):  # the sweeper runs: the reminder, then the breach
        desk.later(hours=hours)
        await desk.sweep()
    desk.later(minutes=15)  # 101%
    await dora.click("Approve")
    assert dora.answers[-1] == "Support has taken this case over; they answer the buyer now."
    case = await desk.latest_case()
    assert case.state is CaseState.ESCALATED
    first, *_ = await desk.promises(case_id)
    assert first.state is PromiseState.BREACHED


async def test_a_late_answer_with_no_sweeper_running_still_counts_as_missed(desk: Desk) -> None:
    dora = desk.staff("dora")
    case_id = await waiting_for_dora(desk)
    desk.later(hours=24, minutes=15)  # nobody swept: the bot was down
    await dora.click("Approve")  # the seller answered late
    [promise] = await desk.promises(case_id)
    assert promise.state is PromiseState.BREACHED  # done, but not on time
    assert (await desk.sweep()).breached == 0  # nothing left to escalate


async def test_what_fell_due_while_the_bot_was_down_is_handled_once(desk: Desk) -> None:
    dora = desk.staff("dora")
    case_id = await waiting_for_dora(desk)
    seen = len(dora.inbox)
    desk.later(days=3)  # past the warning point and the due time, with no sweep
    first = await desk.sweep()
    again = await desk.sweep()
    assert (first.breached, first.reminded, again.breached, again.reminded) == (1, 0, 0, 0)
    assert not any("Reminder:" in m.plain for m in dora.inbox[seen:])  # straight to the breach
    assert sum(1 for p in await desk.promises(case_id) if p.state is PromiseState.BREACHED) == 1


async def test_two_sweepers_racing_handle_each_breach_once(desk: Desk) -> None:
    for _ in range(6):
        await describe_defect(desk, price="5000")
    desk.later(days=2)
    app = desk.sandbox.app
    sweepers = [Sweeper(db=app.db, clock=app.clock, engine=app.engine) for _ in range(2)]
    results = await asyncio.gather(*(s.sweep() for s in sweepers))
    await desk.sweep()  # delivers what they owe
    assert sum(r.breached for r in results) == 6
    async with desk.db.session() as session:
        from sqlalchemy import func, select

        from bot.storage.models import CaseEvent, SupportTopic

        escalations = await session.scalar(
            select(func.count()).where(CaseEvent.action == "escalated")
        )
        topics = await session.scalar(select(func.count()).select_from(SupportTopic))
    assert (escalations, topics) == (6, 6)
