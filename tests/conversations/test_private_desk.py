"""A shop without a support group (no `[support] chat_id`, like the shipped demo shop): a support
member works escalated cases from their private chat with the bot. They pick the case they work
on; what they type goes to its buyer, and the topic commands act on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.enums import CaseState, PromiseKind, PromiseState
from bot.domain.money import Money
from bot.storage.database import Database
from bot.storage.models import CaseEvent, TranscriptEntry
from bot.testing.telegram import Mode
from tests.conversations.test_support_desk import escalated_by_anna
from tests.desk import TEST_SHOP, Desk, open_flow, shop_without_support_group


@asynccontextmanager
async def shop_desk(
    db: Database, clock: FakeClock, folder: Path, channel: str, config: Path
) -> AsyncIterator[Desk]:
    if channel == "engine":
        desk = await Desk.open(db, clock, folder, config=config)
        try:
            yield desk
        finally:
            await desk.close()
        return
    async with Desk.on_telegram(db, clock, folder, Mode.parse(channel), config=config) as desk:
        yield desk


@pytest.fixture
async def desk(db: Database, clock: FakeClock, tmp_path: Path, channel: str) -> AsyncIterator[Desk]:
    config = shop_without_support_group(tmp_path)
    async with shop_desk(db, clock, tmp_path, channel, config) as desk:
        yield desk


@pytest.fixture
async def group_desk(
    db: Database, clock: FakeClock, tmp_path: Path, channel: str
) -> AsyncIterator[Desk]:
    async with shop_desk(db, clock, tmp_path, channel, TEST_SHOP) as desk:
        yield desk


async def escalated_by_ivan(desk: Desk) -> int:
    ivan = desk.buyer("ivan")
    order = await desk.order("ivan", items=[("Чайник", 1, "3000")])
    await open_flow(ivan, "problem", order)
    await ivan.send("оператор")
    return (await desk.latest_case()).id


async def test_a_member_takes_a_case_and_talks_with_the_buyer_from_their_chat(desk: Desk) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    summary = sam.last
    assert f"Case #{case_id}" in summary.plain and summary.labels == ["Take this case"]
    await sam.click("Take this case", message=summary)
    assert f"You are now working on Case {case_id} · #A-1001" in sam.last.plain
    assert sam.last.labels == ["Switch case"]

    seen = len(anna.inbox)
    await sam.send("Hello Anna, could you show me the seal?")
    [relayed] = anna.inbox[seen:]
    assert relayed.plain == "Acme Goods:\nHello Anna, could you show me the seal?"
    assert not any("didn't quite get that" in m.plain for m in sam.inbox)
    [promise] = [p for p in await desk.promises(case_id) if p.kind is PromiseKind.SUPPORT_REPLY]
    assert promise.state is PromiseState.KEPT

    await anna.send("Sure, here it is")
    await anna.send_photo(caption="the seal")
    text, photo = sam.inbox[-2:]
    assert text.plain == f"Case {case_id} · #A-1001\nAnna:\nSure, here it is"
    assert photo.plain.startswith(f"Case {case_id} · #A-1001") and len(photo.photos) == 1
    async with desk.db.session() as session:
        actions = list(
            await session.scalars(
                select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        )
        said = await session.scalar(
            select(TranscriptEntry).where(
                TranscriptEntry.direction == "in",
                TranscriptEntry.user_id == 901,
                TranscriptEntry.text == "Hello Anna, could you show me the seal?",
            )
        )
    assert actions[-3:] == ["agent_message", "buyer_message", "buyer_message"]
    assert said is not None and said.case_id == case_id  # in the case's transcript


async def test_offer_and_refund_act_on_the_current_case(desk: Desk) -> None:
    anna, sam, dora = desk.buyer("anna"), desk.staff("sam"), desk.staff("dora")
    case_id = await escalated_by_anna(desk)
    await sam.click("Take this case", message=sam.last)
    await sam.send("/refund 9999999")
    assert "more than the RUB5,000.00 available" in sam.last.plain
    await sam.send("/offer 1,5")
    assert "refund of RUB1.50" in anna.last.plain
    # The case is the buyer's to answer now: the member is told they left it.
    assert f"Case {case_id} · #A-1001 is no longer with support" in sam.last.plain
    await sam.send("Are you there?")
    assert "You are not working on a case" in sam.inbox[-2].plain
    assert "No open escalations" in sam.last.plain
    await anna.click("Accept")
    assert (await desk.refunded((await desk.latest_case()).order.number)) == Money.of("1.50", "RUB")
    assert "refund RUB1.50" in dora.last.plain

    second = await escalated_by_anna(desk)
    await sam.send("/queue")
    await sam.click(f"Work on case {second} · #A-1002")
    await sam.send("/refund 700")
    assert "Agreed: a refund of RUB700.00" in anna.last.plain
    [_, refund] = await desk.refunds()
    second_order = (await desk.latest_case()).order_id
    assert (refund.amount, refund.order_id) == (Money.of("700", "RUB"), second_order)


async def test_the_queue_picks_and_switches_between_cases(desk: Desk) -> None:
    anna, ivan, sam = desk.buyer("anna"), desk.buyer("ivan"), desk.staff("sam")
    first = await escalated_by_anna(desk)
    desk.later(hours=1)
    second = await escalated_by_ivan(desk)
    await sam.send("/queue")
    queue = sam.last
    assert queue.plain.index(f"case {first}") < queue.plain.index(f"case {second}")
    assert queue.labels == [f"Work on case {first} · #A-1001", f"Work on case {second} · #A-1002"]

    await sam.click(f"Work on case {second} · #A-1002", message=queue)
    assert f"You are now working on Case {second}" in sam.last.plain
    await sam.send("Здравствуйте!")
    assert ivan.last.plain.endswith("Здравствуйте!")

    await sam.click("Switch case")
    await sam.click(f"Work on case {first} · #A-1001")
    assert f"You are now working on Case {first}" in sam.last.plain
    seen_by_ivan = len(ivan.inbox)
    await sam.send("/resolve Sending a new lid.")
    assert "is resolved" in anna.last.plain and "a new lid" in anna.last.plain
    assert len(ivan.inbox) == seen_by_ivan
    assert f"Case {first} · #A-1001 is no longer with support" in sam.last.plain
    cases = {c.id: c.state for c in await desk.cases()}
    assert (cases[first], cases[second]) == (CaseState.RESOLVED, CaseState.ESCALATED)

    # /switch is the same list; a message from the other buyer names its case.
    await ivan.send("Жду ответа")
    assert sam.last.plain.startswith(f"Case {second} · #A-1002\nИван:")
    assert sam.last.labels == [f"Work on case {second} · #A-1002"]
    await sam.click(f"Work on case {second} · #A-1002")
    await sam.send("/handback")
    assert "Служба поддержки вернула вашу заявку мне" in ivan.inbox[-2].plain
    assert "Что не так с заказом" in ivan.last.plain  # the step Ivan left: no reason yet
    assert (await desk.latest_case()).state is not CaseState.ESCALATED
    assert f"Case {second} · #A-1002 is no longer with support" in sam.last.plain


async def test_without_a_case_commands_and_messages_ask_to_pick_one(desk: Desk) -> None:
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    seen = len(anna.inbox)
    await sam.send("/offer 100")
    assert "You are not working on a case" in sam.last.plain
    await sam.send("Hello?")
    assert "You are not working on a case" in sam.inbox[-2].plain
    assert sam.last.labels == [f"Work on case {case_id} · #A-1001"]
    assert len(anna.inbox) == seen and await desk.offers(case_id) == []


async def test_only_members_get_a_private_desk(desk: Desk) -> None:
    anna, dora, mallory = desk.buyer("anna"), desk.staff("dora"), desk.buyer("mallory")
    case_id = await escalated_by_anna(desk)
    seen = len(anna.inbox)
    await mallory.send("/start")
    await mallory.press(f"wo:{case_id}")  # a forged "work on" button
    await dora.send("/queue")
    await dora.send("/refund 100")
    await mallory.send("Hello Anna")
    assert len(anna.inbox) == seen and await desk.refunds() == []
    assert [(a.actor_id, a.action) for a in await desk.audit()] == [
        (103, "support.not_member"),
        (501, "support.not_member"),
        (501, "support.not_member"),
    ]
    assert "didn't quite get that" in mallory.last.plain  # a buyer's chat stays a buyer's


async def test_with_a_support_group_a_private_chat_is_no_desk(group_desk: Desk) -> None:
    desk = group_desk
    anna, sam = desk.buyer("anna"), desk.staff("sam")
    case_id = await escalated_by_anna(desk)
    seen = len(anna.inbox)
    await sam.send("/queue")
    assert f"case {case_id}" in sam.last.plain and sam.last.buttons == ()
    await sam.press(f"wo:{case_id}", message=sam.last)  # the private desk's button, forged
    await sam.send("/offer 100")
    assert sam.last.plain == "This command works inside a case's topic."
    await sam.send("Hello Anna")
    assert len(anna.inbox) == seen and await desk.offers(case_id) == []
    assert (await desk.latest_case()).taken_by is None
