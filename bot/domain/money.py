"""Exact money: Decimal amounts tied to an ISO 4217 currency, stored as integer minor units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision

# Above this the bot refuses an amount outright; no refund in this product is anywhere near it,
# and it keeps every minor-unit value inside a signed 64-bit column.
MAX_AMOUNT = Decimal("1000000000")


@lru_cache(maxsize=64)
def precision(currency: str) -> int:
    """Number of decimal places the currency uses (JPY 0, RUB 2, ...)."""
    return int(get_currency_precision(currency))


class CurrencyMismatchError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        quantum = Decimal(1).scaleb(-precision(self.currency))
        exact = self.amount.quantize(quantum)
        if exact != self.amount:
            raise ValueError(f"{self.amount} has more decimals than {self.currency} allows")
        object.__setattr__(self, "amount", exact)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(Decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-precision(currency)), currency)

    @property
    def minor(self) -> int:
        return int(self.amount.scaleb(precision(self.currency)))

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def times(self, factor: Decimal | int) -> Money:
        """Multiply and round half-up to the currency's precision."""
        quantum = Decimal(1).scaleb(-precision(self.currency))
        return Money(
            (self.amount * Decimal(factor)).quantize(quantum, ROUND_HALF_UP), self.currency
        )

    def percent(self, pct: Decimal | int) -> Money:
        return self.times(Decimal(pct) / 100)

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class AmountError(ValueError):
    """A typed amount the bot cannot accept. `code` picks the template that explains why."""

    def __init__(self, code: str, limit: Money | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.limit = limit


_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(?:[ \u00a0\u202f,.']\d{3})+)?([.,]\d+)?$")


def parse_amount(text: str, currency: str, *, maximum: Money | None = None) -> Money:
    """Read an amount a person typed: "350", "350.5", "1,5", "1 299,00", "₽ 300".

    A lone comma or dot before the last one or two digits is the decimal separator whatever
    the reader's locale, because Russian and Chinese buyers type both. Raises AmountError with
    a code: empty, not_a_number, negative, zero, too_precise, too_large, over_limit.
    """
    value = _read_decimal(text)
    if value.as_tuple().exponent < -precision(currency):  # type: ignore[operator]
        raise AmountError("too_precise")
    if value == 0:
        raise AmountError("zero")
    if value > MAX_AMOUNT:
        raise AmountError("too_large", maximum)
    money = Money(value, currency)
    if maximum is not None and money > maximum:
        raise AmountError("over_limit", maximum)
    return money


def _read_decimal(text: str) -> Decimal:
    stripped = text.strip()
    if not stripped:
        raise AmountError("empty")
    # Currency words and symbols may stand before or after the number ("₽300", "300 руб."),
    # never inside it: "3e5" or "12abc3" are not amounts.
    cleaned = re.sub(r"[^\d]+$", "", re.sub(r"^[^\d+\-.,]+", "", stripped))
    if cleaned.startswith("-"):
        raise AmountError("negative")
    compact = re.sub(r"[\s\u00a0\u202f']", "", cleaned).lstrip("+")
    if not compact or not _NUMBER.match(compact):
        raise AmountError("not_a_number")
    return Decimal(_decimal_point(compact))


def _decimal_point(compact: str) -> str:
    """Rewrite "1.299,50" / "1,299" / "1,5" with at most one "." as the decimal point."""
    separators = [i for i, ch in enumerate(compact) if ch in ",."]
    if not separators:
        return compact
    last = separators[-1]
    tail = compact[last + 1 :]
    thousands_only = (
        len(tail) == 3
        and len({compact[i] for i in separators}) == 1
        and not compact.startswith("0")
    )
    if thousands_only:  # "1,299" or "1.299.000"
        return compact.replace(",", "").replace(".", "")
    return compact[:last].replace(",", "").replace(".", "") + "." + tail
