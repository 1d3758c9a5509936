"""Claiming an order imported without a Telegram id (docs/claiming.md): by the parcel card's
signed link, or by typing its number and answering the seller's check; refused and audited
when the link is forged or expired, the order is someone else's, or the answers keep missing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.claims import ClaimKeys
from tests.desk import Desk

NUMBER = "OZ-7001"
ORDER_VIEW = "What do you need with this order?"
ASKED = "last four digits of the phone number"
NOT_FOUND = "I couldn't find an order"


async def unclaimed_order(desk: Desk, number: str = NUMBER) -> int:
    """An order as a marketplace exports it: the buyer's name, phone and postal code, no
    Telegram id."""
    now = desk.clock.now()
    raw: dict[str, Any] = {
        "marketplace": "ozon",
        "number": number,
        "seller": "acme",
        "buyer": {
            "name": "Иван",
            "language": "ru",
            "timezone": "Europe/Moscow",
            "phone": "+7 (916) 555-12-34",
            "postal_code": "101000",
        },
        "currency": "RUB",
        "paid": "2000",
        "status": "delivered",
        "placed_at": (now - timedelta(days=10)).isoformat(),
        "shipped_at": (now - timedelta(days=8)).isoformat(),
        "delivered_at": (now - timedelta(days=3)).isoformat(),
        "items": [{"sku": "K-1", "title": "Kettle", "quantity": 1, "unit_price": "2000"}],
    }
    report = await desk.import_raw([raw])
    assert report.ok, report.problems
    order = await desk.get_order(number)
    assert order.buyer_id is None and order.phone_hash and "1234" not in order.phone_hash
    return order.id


def keys(desk: Desk) -> ClaimKeys:
    found = desk.sandbox.app.claim_keys
    assert found is not None
    return found


async def test_ivan_scans_the_card(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    order_id = await unclaimed_order(desk)
    token = keys(desk).token(order_id, desk.clock.now() + timedelta(days=30))
    assert len(token) <= 64

    await ivan.send(f"/start {token}")

    assert "теперь привязан к вашему аккаунту" in ivan.last.plain
    assert f"#{NUMBER}" in ivan.last.plain and "Kettle" in ivan.last.plain
    order = await desk.get_order(NUMBER)
    assert order.buyer_id == 102 and order.claimed_at == desk.clock.now()
    await ivan.send(f"/start {token}")  # the same account again: the order, nothing new
    assert "Что нужно сделать с этим заказом?" in ivan.last.plain
    assert "привязан" not in ivan.last.plain
    await ivan.tap("menu_problem")  # the order's menu starts a case on it
    assert (await desk.latest_case()).order_id == order_id
    assert [(a.action, a.allowed) for a in await desk.audit()] == [("claim.link", True)]


async def test_a_forged_or_expired_link_binds_nothing(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order_id = await unclaimed_order(desk)
    token = keys(desk).token(order_id, desk.clock.now() + timedelta(days=1))
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    other = ClaimKeys(b"another-secret-another-secret-xx").token(order_id, desk.clock.now())

    await anna.send(f"/start {forged}")
    assert "This link doesn't work" in anna.last.plain
    await anna.send(f"/start {other}")
    assert "This link doesn't work" in anna.last.plain
    desk.later(days=2)
    await anna.send(f"/start {token}")
    assert "This link has expired" in anna.last.plain

    assert (await desk.get_order(NUMBER)).buyer_id is None
    actions = [(a.actor_id, a.action, a.allowed) for a in await desk.audit()]
    assert actions == [
        (101, "claim.link_forged", False),
        (101, "claim.link_forged", False),
        (101, "claim.link_expired", False),
    ]


async def test_a_second_account_is_refused_and_support_can_rebind(desk: Desk) -> None:
    ivan, mallory = desk.buyer("ivan"), desk.buyer("mallory")
    order_id = await unclaimed_order(desk)
    token = keys(desk).token(order_id, desk.clock.now() + timedelta(days=30))
    await mallory.send(f"/start {token}")  # the card fell into the wrong hands first
    await ivan.send(f"/start {token}")

    assert "уже привязан к другому аккаунту Telegram" in ivan.last.plain
    assert (await desk.get_order(NUMBER)).buyer_id == 103
    assert ("claim.link_taken", 102) in [(a.action, a.actor_id) for a in await desk.audit()]
    await ivan.send(NUMBER)  # by number too: the same answer as an unknown order
    assert "Не удалось найти заказ" in ivan.last.plain

    # Ivan asks for a person; a support member gives him the order.
    sam = desk.staff("sam")
    await mallory.send(f"/rebind {NUMBER} 102")  # not support: refused
    assert (await desk.get_order(NUMBER)).buyer_id == 103
    await sam.send(f"/rebind {NUMBER} 102")
    assert f"#{NUMBER} now belongs to Telegram user 102" in sam.last.plain
    assert (await desk.get_order(NUMBER)).buyer_id == 102
    await ivan.send(NUMBER)
    assert "Что нужно сделать с этим заказом?" in ivan.last.plain
    await mallory.send(NUMBER)
    assert NOT_FOUND in mallory.last.plain
    rebound = [a for a in await desk.audit() if a.action == "claim.rebound"]
    assert [(a.actor_id, a.allowed, a.detail) for a in rebound] == [
        (901, True, {"from": 103, "to": 102})
    ]


async def test_claim_by_number_three_wrong_answers_then_a_cool_down(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await unclaimed_order(desk)

    await anna.send("/start")
    await anna.send(f"#{NUMBER}")
    assert ASKED in anna.last.plain
    await anna.send("0000")
    assert "You can try 2 more times" in anna.last.plain
    await anna.send("1111")
    assert "You can try 1 more time." in anna.last.plain
    await anna.send("2222")
    assert "can't be linked to your account until" in anna.last.plain

    await anna.send(NUMBER)  # during the cool-down, even the right answer is not asked for
    assert "can't be linked to your account until" in anna.last.plain
    assert (await desk.get_order(NUMBER)).buyer_id is None

    desk.later(hours=1)
    await anna.send(NUMBER)
    assert ASKED in anna.last.plain
    await anna.send("my phone ends in 1234")  # however the digits are written
    assert "is now linked to your Telegram account" in anna.last.plain
    assert ORDER_VIEW in anna.last.plain
    assert (await desk.get_order(NUMBER)).buyer_id == 101

    actions = [a.action for a in await desk.audit()]
    assert actions == [
        "claim.wrong_check",
        "claim.wrong_check",
        "claim.wrong_check",
        "claim.cooling_down",
        "claim.check",
    ]


async def test_an_order_number_typed_at_the_menu_opens_ones_own_order(desk: Desk) -> None:
    anna, mallory = desk.buyer("anna"), desk.buyer("mallory")
    order = await desk.order("anna")

    await anna.send("/start")
    await anna.send(order.number)
    assert ORDER_VIEW in anna.last.plain and f"#{order.number}" in anna.last.plain
    await mallory.send(order.number)  # someone else's: as if it did not exist
    assert NOT_FOUND in mallory.last.plain
    await mallory.send("A-9999")
    assert NOT_FOUND in mallory.last.plain
    assert [a.action for a in await desk.audit()] == ["buyer.foreign_order"]


async def test_importing_the_file_again_keeps_the_claimant(desk: Desk) -> None:
    ivan = desk.buyer("ivan")
    order_id = await unclaimed_order(desk)
    await ivan.send(f"/start {keys(desk).token(order_id, desk.clock.now() + timedelta(days=1))}")
    assert (await desk.get_order(NUMBER)).buyer_id == 102

    await unclaimed_order_again(desk)
    assert (await desk.get_order(NUMBER)).buyer_id == 102


async def unclaimed_order_again(desk: Desk) -> None:
    order = await desk.get_order(NUMBER)
    report = await desk.import_raw(
        [
            {
                "marketplace": "ozon",
                "number": NUMBER,
                "seller": "acme",
                "buyer": {"name": "Иван", "phone": "1234"},
                "currency": "RUB",
                "paid": "2000",
                "status": "completed",
                "placed_at": order.placed_at.isoformat(),
                "shipped_at": (order.placed_at + timedelta(days=1)).isoformat(),
                "delivered_at": (order.placed_at + timedelta(days=2)).isoformat(),
                "items": [{"sku": "K-1", "title": "Kettle", "quantity": 1, "unit_price": "2000"}],
            }
        ]
    )
    assert report.ok and report.updated == 1, report.problems
