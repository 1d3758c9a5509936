"""Reading Ozon's JSON defensively: exact decimals from strings or numbers, UTC times, and a
clear `ShapeError` for what cannot be read (the caller sets that one record aside)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.marketplaces.ozon.unconfirmed import Fact, met

# Ozon writes an unset time as the zero time.
_ZERO_YEAR = 1


class ShapeError(ValueError):
    """A record that is not the shape the reference gives."""


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def text(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ShapeError(f"{key}: missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ShapeError(f"{key}: expected text, got {type(value).__name__}")
    return str(value)


def integer(data: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ShapeError(f"{key}: missing")
        return None
    if isinstance(value, bool):
        raise ShapeError(f"{key}: expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise ShapeError(f"{key}: expected a whole number, got {value!r}")


def decimal(value: Any, where: str) -> Decimal:
    """An exact amount from a string ("1290.00", as the reference types prices) or a JSON
    number (as newer examples show); a float is read by its shortest repr, so 1290.1 is
    Decimal("1290.1"), never 1290.09999..."""
    if isinstance(value, bool) or value is None:
        raise ShapeError(f"{where}: expected an amount, got {value!r}")
    if isinstance(value, str):
        met(Fact.PRICE_AS_STRING, where)
        raw = value.strip()
    elif isinstance(value, int | float):
        met(Fact.PRICE_AS_NUMBER, where)
        raw = repr(value)
    else:
        raise ShapeError(f"{where}: expected an amount, got {type(value).__name__}")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise ShapeError(f"{where}: {value!r} is not an amount") from exc
    if not amount.is_finite():
        raise ShapeError(f"{where}: {value!r} is not an amount")
    return amount


def time(data: dict[str, Any], key: str) -> datetime | None:
    """A UTC time; Ozon's times are UTC, so one written without an offset is taken as UTC."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{key}: expected a time, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ShapeError(f"{key}: {value!r} is not an ISO 8601 time") from exc
    if parsed.year == _ZERO_YEAR:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """A time as Ozon reads it: UTC, with a Z."""
    if moment.tzinfo is None:
        raise ValueError("an Ozon time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
