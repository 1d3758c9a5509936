"""A repeat request is a fact of the case, and the policy's offer decides from it: the same
facts always give the same offer, and a repeat is never approved without the seller."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.enums import Reason, Want
from bot.domain.money import Money
from bot.domain.offers import CaseFacts, EarlierRequest, StandardOffer, standard_offer
from tests.test_policy import POLICY

THEN = datetime(2026, 12, 3, 10, tzinfo=UTC)
REFUNDED = EarlierRequest(7, THEN, False, Money.of("600", "RUB"), THEN, Decimal(30))
STILL_OPEN = EarlierRequest(8, THEN, True)


def first_request(reason: Reason, claimed: str | None = None) -> CaseFacts:
    return CaseFacts(
        reason=reason,
        want=Want.KEEP,
        affected_value=Money.of("2000", "RUB"),
        refundable=Money.of("2000", "RUB"),
        claimed=Money.of(claimed, "RUB") if claimed else None,
    )


def test_a_repeat_keeps_the_standard_amount_but_needs_the_seller() -> None:
    first = standard_offer(POLICY, first_request(Reason.DEFECT))
    assert isinstance(first, StandardOffer) and first.auto_approved
    for earlier in ((REFUNDED,), (STILL_OPEN,), (REFUNDED, STILL_OPEN)):
        again = standard_offer(POLICY, replace(first_request(Reason.DEFECT), earlier=earlier))
        assert again == replace(first, auto_approved=False)


@given(claimed=st.integers(min_value=1, max_value=2000))
def test_no_amount_the_buyer_states_is_auto_approved_twice(claimed: int) -> None:
    facts = replace(first_request(Reason.PRICE_ERROR, str(claimed)), earlier=(REFUNDED,))
    offer = standard_offer(POLICY, facts)
    assert isinstance(offer, StandardOffer) and not offer.auto_approved
    assert offer.amount == Money.of(claimed, "RUB")
