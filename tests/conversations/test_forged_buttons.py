"""Forged button payloads and the pop-ups that answer them: a number no database column holds is
a stale button like any other, and a pop-up is plain text within Telegram's 200 characters."""

from __future__ import annotations

import pytest

from bot.engine.context import POPUP_LIMIT, popup_text
from bot.engine.payloads import PayloadError
from handlers.payloads import PickOrder, PickQuantity
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

HUGE = 10**30
STALE = "That button belongs to an earlier step and no longer does anything. Nothing has changed."


async def test_a_forged_button_with_a_number_past_the_databases_integers_changes_nothing(
    desk: Desk,
) -> None:
    anna = desk.buyer("anna")
    await describe_defect(desk, price="2000")
    case = await desk.latest_case()
    [offer] = await desk.offers(case.id)
    forged = [
        f"o:problem:{HUGE}",
        f"o:problem:-{HUGE}",
        f"bo:{HUGE}:accept",
        f"so:{2**40}:approve",  # a BIGINT, but ids are 32-bit INTEGERs on PostgreSQL
        f"tk:{2**31}",
        f"q:{case.id}:{HUGE}",
        f"wd:{2**63}",
    ]
    for payload in forged:
        await anna.press(payload)
        assert anna.answers[-1] == STALE, payload
    assert not any("went wrong" in m.plain for m in anna.inbox)
    assert [o.status for o in await desk.offers(case.id)] == [offer.status]
    assert (await desk.latest_case()).state is case.state


def test_a_payload_whose_number_no_column_holds_does_not_unpack() -> None:
    with pytest.raises(PayloadError):
        PickOrder.unpack(f"o:problem:{2**31}")
    with pytest.raises(PayloadError):
        PickQuantity.unpack(f"q:1:{HUGE}")
    assert PickOrder.unpack(f"o:problem:{2**31 - 1}").order_id == 2**31 - 1


async def test_a_refusal_in_a_pop_up_is_plain_text(desk: Desk) -> None:
    anna, mallory = desk.buyer("anna"), desk.buyer("mallory")
    annas = await desk.order("anna")
    await mallory.send("/start")
    await mallory.press(PickOrder(flow="problem", order_id=annas.id).pack())
    assert mallory.answers[-1].startswith("I couldn't find that order among yours.")
    assert "<" not in mallory.answers[-1] and not mallory.answers[-1].endswith("\n")
    assert anna.inbox == []


def test_a_pop_up_is_cut_to_telegrams_200_characters() -> None:
    assert popup_text("<b>3</b> &amp; more\n") == "3 & more"
    long = popup_text("<i>" + "word " * 100 + "</i>")
    assert len(long) <= POPUP_LIMIT and long.endswith("…")
    # Telegram counts UTF-16 code units: an emoji is two of them.
    emoji = popup_text("😀" * 150)
    assert len(emoji.encode("utf-16-le")) // 2 <= POPUP_LIMIT
