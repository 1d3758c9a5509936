"""Someone who is not a support member, writing in the support group, is refused there at most
once an hour: every attempt is audited, but the group's 20 messages a minute stay for the
cases, so a stranger cannot hold back what buyers say to support."""

from __future__ import annotations

from tests.conversations.test_support_desk import escalated_by_anna
from tests.desk import Desk

REFUSED = "only our support team can act here"


async def test_a_stranger_in_the_support_group_is_refused_once_an_hour(desk: Desk) -> None:
    anna, mallory, sam = desk.buyer("anna"), desk.buyer("mallory"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    topic = await desk.topic(case_id)
    chat, _ = topic
    before = len(desk.sandbox.channel.inbox(chat))

    for n in range(38):
        await mallory.send(f"hello {n}", topic=topic)
    await mallory.send("/refund 5000", topic=topic)
    await mallory.send("/start", topic=(chat, None))  # any command, in the General topic too
    await anna.send("Are you there?")

    written = desk.sandbox.channel.inbox(chat)[before:]
    assert len(written) == 2, [m.plain for m in written]  # one refusal, and Anna's message
    refusals = [m for m in written if REFUSED in m.plain]
    assert len(refusals) == 1 and "60 minutes" in refusals[0].plain
    assert [m.plain for m in written if m not in refusals] == ["Anna:\nAre you there?"]
    assert await desk.refunds() == []
    actions = [(a.actor_id, a.action) for a in await desk.audit()]
    assert actions == [(103, "support.not_member")] + [(103, "support.not_member.quiet")] * 39

    desk.later(minutes=59)
    await mallory.send("still here", topic=topic)
    assert len(desk.sandbox.channel.inbox(chat)) == before + 2  # still quiet
    desk.later(minutes=1)
    await mallory.send("and now?", topic=topic)
    assert REFUSED in desk.sandbox.channel.inbox(chat)[-1].plain  # an hour on: told again

    await sam.send("/take", topic=topic)  # a member is not held back by any of it
    assert (await desk.latest_case()).taken_by == 901
