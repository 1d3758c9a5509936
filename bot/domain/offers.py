"""The standard offer: a pure function of the seller's policy and the facts of a case.

The same facts always give the same offer. Whatever a seller later does differently is a
deviation, recorded against the standard computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from bot.domain.enums import Reason, Remedy, Want
from bot.domain.money import Money
from bot.domain.policy import Policy

ALTERNATIVE_WANTS = (Want.KEEP, Want.REPLACE, Want.RETURN)


@dataclass(frozen=True, slots=True)
class EarlierRequest:
    """An earlier case about the same order item (the same order, for a case about the whole
    order) that is still open or refunded money: what makes a request a repeat."""

    case_id: int
    opened_at: datetime
    open: bool
    refunded: Money | None = None  # approved or sent, not failed
    refunded_at: datetime | None = None  # when the last of it was approved
    share: Decimal | None = None  # the refund as a percentage of what the item cost


@dataclass(frozen=True, slots=True)
class CaseFacts:
    reason: Reason
    want: Want
    affected_value: Money  # price paid for the items the problem concerns
    refundable: Money  # what is left of the order's payment after earlier refunds
    claimed: Money | None = None  # the amount the buyer stated, for a "claimed" remedy
    earlier: tuple[EarlierRequest, ...] = ()  # earlier requests on the same item


@dataclass(frozen=True, slots=True)
class StandardOffer:
    remedy: Remedy
    amount: Money | None  # None: nothing moves money, or the seller must set the amount
    auto_approved: bool
    return_shipping: Literal["seller", "buyer"]

    @property
    def needs_amount_from_seller(self) -> bool:
        return self.remedy.moves_money and self.amount is None


@dataclass(frozen=True, slots=True)
class NoStandardOffer:
    why: Literal["not_in_policy", "nothing_refundable"]
    alternatives: tuple[Want, ...] = field(default=())


def standard_offer(policy: Policy, facts: CaseFacts) -> StandardOffer | NoStandardOffer:
    rule = policy.rule(facts.reason)
    wanted = rule.remedy_for(facts.want)
    if wanted is None:
        others = tuple(
            want for want in ALTERNATIVE_WANTS if want != facts.want and rule.remedy_for(want)
        )
        return NoStandardOffer("not_in_policy", others)

    amount: Money | None
    match wanted.remedy:
        case Remedy.PERCENT:
            assert wanted.percent is not None
            amount = facts.affected_value.percent(wanted.percent)
        case Remedy.FIXED:
            per_currency = (wanted.amount or {}).get(facts.refundable.currency)
            amount = (
                None if per_currency is None else Money(per_currency, facts.refundable.currency)
            )
        case Remedy.CLAIMED:
            amount = facts.claimed if facts.claimed is not None else facts.affected_value
            amount = amount.min(facts.affected_value)
        case Remedy.RETURN_FULL:
            amount = facts.affected_value
        case _:
            amount = None

    if wanted.remedy.moves_money:
        if facts.refundable.is_zero:
            return NoStandardOffer("nothing_refundable")
        if amount is not None:
            # A share of a very cheap item can round to nothing; the smallest coin is offered
            # instead, since an offer of zero is no offer.
            amount = max(amount, Money.from_minor(1, amount.currency)).min(facts.refundable)

    return StandardOffer(
        remedy=wanted.remedy,
        amount=amount,
        auto_approved=auto_approves(policy, amount, facts.earlier),
        return_shipping=rule.return_shipping,
    )


def auto_approves(
    policy: Policy, amount: Money | None, earlier: tuple[EarlierRequest, ...] = ()
) -> bool:
    """Whether an offer goes to the buyer with no seller tap: an amount within the limit, on a
    first request. A repeat on the same item (an earlier one still open, or already refunded)
    always needs the seller, whatever the amount: otherwise the same defect, or the same
    price difference the buyer states, would be paid again and again with nobody looking."""
    return amount is not None and not earlier and within_auto_approval(policy, amount)


def within_auto_approval(policy: Policy, amount: Money) -> bool:
    limit = policy.auto_approve.get(amount.currency)
    return limit is not None and amount.amount <= limit


def over_escalation_threshold(policy: Policy, amount: Money) -> bool:
    limit = policy.escalation.amount_threshold.get(amount.currency)
    return limit is not None and amount.amount > limit


@dataclass(frozen=True, slots=True)
class ReturnWindow:
    open: bool
    closes_at: datetime


def return_window(policy: Policy, delivered_at: datetime, now: datetime) -> ReturnWindow:
    closes_at = delivered_at + policy.return_window
    return ReturnWindow(open=now <= closes_at, closes_at=closes_at)
