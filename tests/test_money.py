"""Money is exact: Decimal with a currency, read from what people type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.money import AmountError, CurrencyMismatchError, Money, parse_amount


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("350", "350"),
        ("350.5", "350.50"),
        ("1,5", "1.50"),
        ("1 299,00", "1299.00"),
        ("1,299", "1299"),
        ("1.299,50", "1299.50"),
        ("12,345,678", "12345678"),
        ("₽ 300", "300"),
        ("300 руб.", "300"),
        ("+42", "42"),
        ("0.5", "0.50"),
        ("1\u00a0000", "1000"),
    ],
)
def test_amounts_people_type(typed: str, expected: str) -> None:
    assert parse_amount(typed, "RUB") == Money.of(expected, "RUB")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not_a_number"),
        ("3e5", "not_a_number"),
        ("12abc3", "not_a_number"),
        ("-3", "negative"),
        ("- 3", "negative"),
        ("0", "zero"),
        ("0,00", "zero"),
        ("0.001", "too_precise"),
        ("10000000000", "too_large"),
        ("1.2.3.4", "not_a_number"),
    ],
)
def test_amounts_that_are_refused_say_why(typed: str, code: str) -> None:
    with pytest.raises(AmountError) as error:
        parse_amount(typed, "RUB")
    assert error.value.code == code


def test_an_amount_above_the_limit_names_the_limit() -> None:
    with pytest.raises(AmountError) as error:
        parse_amount("9999999", "RUB", maximum=Money.of("500", "RUB"))
    assert (error.value.code, error.value.limit) == ("over_limit", Money.of("500", "RUB"))


def test_currencies_have_their_own_precision() -> None:
    assert parse_amount("1500", "JPY") == Money.of(1500, "JPY")
    with pytest.raises(AmountError, match="too_precise"):
        parse_amount("1500.5", "JPY")
    with pytest.raises(ValueError, match="more decimals"):
        Money(Decimal("1.234"), "USD")


def test_money_does_not_mix_currencies() -> None:
    with pytest.raises(CurrencyMismatchError):
        Money.of(1, "RUB") + Money.of(1, "USD")
    with pytest.raises(CurrencyMismatchError):
        assert Money.of(1, "RUB") < Money.of(1, "CNY")


@given(
    st.integers(min_value=0, max_value=10**12), st.sampled_from(["RUB", "CNY", "USD", "JPY", "KWD"])
)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    assert Money.from_minor(minor, currency).minor == minor


@given(st.decimals(min_value=0, max_value=10**7, places=2), st.integers(min_value=1, max_value=100))
def test_a_percentage_never_exceeds_the_whole(amount: Decimal, percent: int) -> None:
    whole = Money(amount, "RUB")
    assert whole.percent(percent) <= whole
