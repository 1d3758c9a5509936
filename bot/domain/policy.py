"""A seller's policy: the one standard every offer comes from.

The same problem gets the same answer (docs/design.md#policy-is-data).

The policy is data, read from TOML; `bot.domain.offers` turns it and the case facts into an offer.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from bot.domain.calendar import Target
from bot.domain.claims import CheckKind
from bot.domain.durations import format_duration, parse_duration
from bot.domain.enums import PromiseKind, Reason, Remedy, Want
from bot.domain.money import Money

Duration = Annotated[
    timedelta,
    BeforeValidator(lambda v: parse_duration(v) if isinstance(v, str) else v),
    PlainSerializer(format_duration, return_type=str),
]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=14)]
# "1d" in calendar time, or "8bh" / "8 business hours" on the owner's business calendar.
ReplyTarget = Annotated[
    Target,
    BeforeValidator(lambda v: Target.parse(v) if isinstance(v, str) else v),
    PlainSerializer(str, return_type=str),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemedyRule(_Strict):
    """The standard answer to one (reason, want) pair."""

    remedy: Remedy
    percent: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    amount: dict[str, PositiveAmount] | None = None  # fixed compensation per currency

    @model_validator(mode="after")
    def _fields_match_remedy(self) -> RemedyRule:
        if self.remedy is Remedy.PERCENT and self.percent is None:
            raise ValueError("remedy 'percent' needs percent = 1..100")
        if self.remedy is Remedy.FIXED and not self.amount:
            raise ValueError("remedy 'fixed' needs amount = { RUB = \"300\" } (one per currency)")
        if self.remedy not in (Remedy.PERCENT,) and self.percent is not None:
            raise ValueError(f"percent has no meaning for remedy '{self.remedy}'")
        if self.remedy in (Remedy.REFUND, Remedy.COUPON):
            raise ValueError(
                f"'{self.remedy}' is what a seller offers by hand, not a standard remedy"
            )
        return self


class ReasonRule(_Strict):
    photos: bool = False
    return_shipping: Literal["seller", "buyer"] = "seller"
    keep: RemedyRule | None = None
    replace: RemedyRule | None = None
    return_: RemedyRule | None = Field(default=None, alias="return")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def remedy_for(self, want: Want) -> RemedyRule | None:
        return {Want.KEEP: self.keep, Want.REPLACE: self.replace, Want.RETURN: self.return_}.get(
            want
        )

    @field_validator("keep")
    @classmethod
    def _keep_moves_money(cls, rule: RemedyRule | None) -> RemedyRule | None:
        if rule is not None and rule.remedy not in (Remedy.PERCENT, Remedy.FIXED, Remedy.CLAIMED):
            raise ValueError("keep (the buyer keeps the item) takes percent, fixed or claimed")
        return rule

    @field_validator("replace")
    @classmethod
    def _replace_ships(cls, rule: RemedyRule | None) -> RemedyRule | None:
        if rule is not None and rule.remedy not in (Remedy.REPLACEMENT, Remedy.RESHIP):
            raise ValueError("replace takes replacement or reship")
        return rule

    @field_validator("return_")
    @classmethod
    def _return_refunds(cls, rule: RemedyRule | None) -> RemedyRule | None:
        if rule is not None and rule.remedy is not Remedy.RETURN_FULL:
            raise ValueError("return takes return_full")
        return rule


class ReturnHistory(_Strict):
    """A buyer who had this many refunds and returns with the seller in the period, or this
    much refunded (per currency), is flagged: their next case goes to support. Questions,
    cancellations and requests never finished are not counted (bot.services.history)."""

    cases: Annotated[int, Field(ge=1)] = 5
    period: Duration = timedelta(days=90)
    amount: dict[str, PositiveAmount] = Field(default_factory=dict)

    def flags(self, cases: int, refunded: Money) -> bool:
        limit = self.amount.get(refunded.currency)
        return cases >= self.cases or (limit is not None and refunded.amount >= limit)


class Escalation(_Strict):
    max_buyer_declines: Annotated[int, Field(ge=1, le=5)] = 2
    amount_threshold: dict[str, PositiveAmount] = Field(default_factory=dict)
    # The owner of a promise is reminded when this share of its window has passed.
    warn_at: Annotated[float, Field(gt=0, lt=1)] = 0.75
    return_history: ReturnHistory | None = None


class Claiming(_Strict):
    """How a buyer claims an order imported without their Telegram id (docs/claiming.md): the
    one check asked of someone who types its number, how many wrong answers they get before a
    cool-down, and how long a printed link stays valid."""

    check: CheckKind = CheckKind.PHONE_LAST4
    tries: Annotated[int, Field(ge=1, le=10)] = 3
    cool_down: Duration = timedelta(hours=1)
    link_valid: Duration = timedelta(days=180)


SecondRound = Literal["refund", "replacement", "support"]


def _every_second_round() -> list[SecondRound]:
    return ["refund", "replacement", "support"]


class Aftersales(_Strict):
    """What follows a resolution (docs/aftersales.md): how long after it the buyer is asked,
    once, to rate how the case went (a rating of 1 or 2 opens a follow-up the seller owes by
    reply_targets.follow_up), and how long "still not right" reopens the same case, with what
    its second round may offer."""

    survey_after: Duration = timedelta(days=1)
    follow_up_window: Duration = timedelta(days=14)
    # A shipped reshipment or replacement the buyer has not confirmed counts as delivered this
    # long after "Shipped" (docs/offers-and-promises.md#reshipments).
    delivered_after: Duration = timedelta(days=21)
    # After this long from "Shipped" the buyer may say it has not arrived: support takes it.
    delivery_expected: Duration = timedelta(days=7)
    second_round: list[SecondRound] = Field(default_factory=_every_second_round, min_length=1)


class Policy(_Strict):
    return_window: Duration = timedelta(days=14)
    return_reasons: list[Reason] = Field(
        default_factory=lambda: [
            Reason.DEFECT,
            Reason.WRONG_ITEM,
            Reason.NOT_AS_DESCRIBED,
            Reason.DAMAGED_IN_TRANSIT,
            Reason.CHANGED_MIND,
        ]
    )
    keep_order_discount: Annotated[Decimal, Field(ge=0, le=50)] = Decimal(0)
    auto_approve: dict[str, Annotated[Decimal, Field(ge=0)]] = Field(default_factory=dict)
    escalation: Escalation = Field(default_factory=Escalation)
    reply_targets: dict[PromiseKind, ReplyTarget] = Field(default_factory=dict)
    reasons: dict[Reason, ReasonRule] = Field(default_factory=dict)
    claiming: Claiming = Field(default_factory=Claiming)
    aftersales: Aftersales = Field(default_factory=Aftersales)

    @field_validator("auto_approve")
    @classmethod
    def _currency_codes(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code in value:
            if len(code) != 3 or not code.isupper():
                raise ValueError(f"{code!r} is not a currency code such as RUB, CNY or USD")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        missing = [kind.value for kind in PromiseKind if kind not in self.reply_targets]
        if missing:
            raise ValueError(f"reply_targets lacks {', '.join(missing)}")
        unknown = [r.value for r in self.return_reasons if r not in self.reasons]
        if unknown:
            raise ValueError(f"return_reasons names reasons with no [reasons.X] table: {unknown}")
        return self

    def rule(self, reason: Reason) -> ReasonRule:
        return self.reasons.get(reason, ReasonRule())

    def offered_reasons(self) -> list[Reason]:
        """Reasons the buyer can pick, in the playbook's order."""
        return [reason for reason in Reason if reason in self.reasons]

    def target(self, kind: PromiseKind) -> Target:
        return self.reply_targets[kind]
