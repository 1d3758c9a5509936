"""/forget (docs/privacy.md): a buyer asks, support confirms on a card in the support group,
the buyer's words, photos and name are erased and the buyer is told in their language; the
refund stays in the ledger. Only a support member's tap counts; a request is answered once."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.money import Money
from bot.services import privacy
from bot.storage.models import Buyer, Evidence, TranscriptEntry
from handlers.payloads import Forget
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

GROUP = -1001000000001
ASKED = "I have asked our support team to erase your personal data."
ERASED = "Your personal data has been erased"


async def test_support_confirms_and_the_buyer_is_erased_and_told(desk: Desk) -> None:
    anna, sam, mallory = desk.buyer("anna"), desk.staff("sam"), desk.buyer("mallory")
    number = await describe_defect(desk, price="2000")
    await anna.click("Accept")
    [refund] = await desk.refunds(number)

    await anna.send("/forget")
    assert ASKED in anna.last.plain
    card = desk.sandbox.channel.inbox(GROUP)[-1]
    assert "Buyer Anna (Telegram id 101) asks for their personal data to be erased" in card.plain
    assert "Orders: 1. Cases: 1, of which open: 1." in card.plain
    assert card.labels == ["Erase their data", "Decline"]
    await anna.send("/forget")  # asking again while it waits changes nothing
    assert "already with our support team" in anna.last.plain
    assert len([m for m in desk.sandbox.channel.inbox(GROUP) if "Erasure request" in m.plain]) == 1

    # Someone who is not support taps the card's button: refused, audited, nothing erased.
    told = len(anna.inbox)
    await mallory.press(Forget(buyer_id=101, action="confirm").pack(), message=card)
    assert mallory.answers[-1] == "Sorry, that is not available to you."
    assert len(anna.inbox) == told
    assert await _name(desk, 101) == "Anna"
    assert (await desk.audit())[-1].action == "support.not_member"

    await sam.click("Erase their data", message=card)
    assert ERASED in anna.last.plain
    said = desk.sandbox.channel.inbox(GROUP)[-1].plain
    assert "Sam erased the personal data of Telegram user 101" in said
    assert "photos removed: 1" in said

    assert await _name(desk, 101) == ""
    async with desk.db.session() as session:
        texts = list(
            await session.scalars(
                select(TranscriptEntry.text).where(
                    TranscriptEntry.chat_id == 101, TranscriptEntry.template != "buyer/forgotten"
                )
            )
        )
        photo = await session.scalar(select(Evidence))
    assert texts and all(text is None for text in texts)
    assert photo is not None and photo.file_id == "" and photo.caption is None
    assert [(r.amount, r.status) for r in await desk.refunds(number)] == [
        (refund.amount, refund.status)
    ]
    assert refund.amount == Money.of("600", "RUB")
    erased = [a for a in await desk.audit() if a.action == privacy.ERASED]
    assert [(a.actor_id, a.target, a.detail["by"]) for a in erased] == [
        (901, "buyer:101", "support:Sam")
    ]

    # The card's buttons are spent: a second tap says so and tells the buyer nothing more.
    told = len(anna.inbox)
    await sam.click("Erase their data", message=card)
    assert sam.answers[-1] == "This request has already been answered."
    assert len(anna.inbox) == told


async def test_support_declines_and_the_buyer_is_told_in_their_language(desk: Desk) -> None:
    ivan, sam = desk.buyer("ivan"), desk.staff("sam")
    await desk.order("ivan")
    await ivan.send("/start")
    await ivan.send("/forget")
    assert "Я попросил нашу поддержку удалить ваши персональные данные" in ivan.last.plain
    card = desk.sandbox.channel.inbox(GROUP)[-1]
    assert "Orders: 1. Cases: 0, of which open: 0." in card.plain

    await sam.click("Decline", message=card)
    assert "Наша поддержка пока не удалила ваши персональные данные" in ivan.last.plain
    assert "Sam declined the erasure request of Telegram user 102" in (
        desk.sandbox.channel.inbox(GROUP)[-1].plain
    )
    assert await _name(desk, 102) == "Иван"
    # Declined: the buyer may ask again, and support gets a new card.
    await ivan.send("/forget")
    assert "Erasure request" in desk.sandbox.channel.inbox(GROUP)[-1].plain


async def _name(desk: Desk, buyer_id: int) -> str:
    async with desk.db.session() as session:
        buyer = await session.get(Buyer, buyer_id)
    assert buyer is not None
    return buyer.name
