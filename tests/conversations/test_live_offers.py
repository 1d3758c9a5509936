"""Only a case's current offer is live: an offer replaced by a later one (support's, a seller's
counter, another round) is dead, and a button or a typed answer that names it changes nothing
and says so."""

from __future__ import annotations

from bot.domain.enums import CaseState, OfferStatus
from bot.domain.money import Money
from bot.sandbox import Delivered, Participant
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

STALE = "no longer does anything"


async def _support_offers(desk: Desk, amount: str) -> None:
    case = await desk.latest_case()
    await desk.staff("sam").send(f"/offer {amount}", topic=await desk.topic(case.id))


def _told_stale(person: Participant, seen: int) -> bool:
    """The person's last tap was answered as a stale button, and nothing else reached them."""
    return bool(person.answers) and STALE in person.answers[-1] and len(person.inbox) == seen


async def test_an_offer_replaced_by_support_cannot_be_accepted(desk: Desk) -> None:
    anna = desk.buyer("anna")
    number = await describe_defect(desk, price="2000")  # 600 RUB, offered at once
    first: Delivered = anna.last
    assert "refund of RUB600.00" in first.plain
    await anna.send("человек")
    await _support_offers(desk, "100")
    assert "refund of RUB100.00" in anna.last.plain

    seen = len(anna.inbox)
    await anna.click("Accept", message=first)
    assert _told_stale(anna, seen)
    await anna.click("Decline", message=first)
    assert _told_stale(anna, seen)
    assert await desk.refunds() == []
    case = await desk.latest_case()
    old, new = await desk.offers(case.id)
    assert (old.status, new.status) == (OfferStatus.SUPERSEDED, OfferStatus.OFFERED)
    assert case.state is CaseState.AWAITING_BUYER

    await anna.click("Accept")  # the current offer still works
    [refund] = await desk.refunds(number)
    assert refund.amount == Money.of("100", "RUB")


async def test_a_reason_typed_for_a_replaced_offer_declines_nothing(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="2000")
    await anna.click("Decline")  # the bot asks why
    await anna.send("человек")
    await _support_offers(desk, "100")
    seen_by_dora = len(dora.inbox)

    await anna.send("600 is too little")  # the reason, for an offer that is gone
    assert STALE in anna.last.plain
    case = await desk.latest_case()
    assert [o.status for o in await desk.offers(case.id)] == [
        OfferStatus.SUPERSEDED,
        OfferStatus.OFFERED,
    ]
    assert (case.state, case.buyer_declines) == (CaseState.AWAITING_BUYER, 0)
    assert len(dora.inbox) == seen_by_dora  # no new round was put to the seller


async def test_a_seller_card_for_a_replaced_offer_is_stale(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="5000")  # 1500 RUB waits for the seller
    card = dora.last
    assert "Approve RUB1,500.00" in card.labels
    await anna.send("человек")
    await _support_offers(desk, "100")
    await anna.click("Decline")
    await anna.send("Not enough")  # one more round: the seller decides on 100 now
    assert (await desk.latest_case()).state is CaseState.AWAITING_SELLER

    seen = len(anna.inbox)
    await dora.click("Approve RUB1,500.00", message=card)
    assert dora.answers and STALE in dora.answers[-1]
    await dora.click("Refuse, offer an alternative", message=card)
    assert dora.answers and STALE in dora.answers[-1]
    assert len(anna.inbox) == seen  # the buyer was offered nothing
    case = await desk.latest_case()
    statuses = [o.status for o in await desk.offers(case.id)]
    assert statuses == [
        OfferStatus.SUPERSEDED,  # the standard 1500, replaced by support's offer
        OfferStatus.DECLINED,  # support's 100
        OfferStatus.PENDING_SELLER,  # the round the seller now decides
    ]
    await anna.send("человек")  # support's summary names what happened to each offer
    summary = (await desk.in_topic(case.id))[-1].plain
    assert "replaced by a later offer" in summary and "waiting for the seller" in summary


async def test_a_refund_support_approves_replaces_the_offers_still_waiting(desk: Desk) -> None:
    anna, dora = desk.buyer("anna"), desk.staff("dora")
    await describe_defect(desk, price="5000")  # 1500 RUB waits for the seller
    card = dora.last
    await anna.send("человек")
    case = await desk.latest_case()
    await desk.staff("sam").send("/refund 700", topic=await desk.topic(case.id))
    [standard] = await desk.offers(case.id)
    assert standard.status is OfferStatus.SUPERSEDED
    await dora.click("Approve RUB1,500.00", message=card)
    assert dora.answers and STALE in dora.answers[-1]
    [refund] = await desk.refunds()
    assert refund.amount == Money.of("700", "RUB")
