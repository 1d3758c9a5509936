"""The ranges of the database's integer columns, for numbers that come from outside (a webhook's
body, a button's payload) and must be refused before a query meets them: a driver raises
OverflowError or DataError for a number past its column, which would fail the whole update."""

from __future__ import annotations

# INTEGER (the tables' ids, quantities) is 32 bits on PostgreSQL; SQLite stores 64.
INTEGER_MAX = 2**31 - 1
# BIGINT (Telegram's ids, amounts in minor units) is 64 bits on both.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1


def is_bigint(value: object) -> bool:
    """An int (not a bool, which Python counts as one) that a BIGINT column holds."""
    return type(value) is int and BIGINT_MIN <= value <= BIGINT_MAX
