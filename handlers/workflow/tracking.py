"""A parcel's tracking number as a person types it: the buyer's return, the seller's reshipment."""

from __future__ import annotations

import re

TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\- ]{3,39}$")


def tracking_number(text: str | None) -> str | None:
    """The number as stored (no spaces, capitals), or None when it cannot be one."""
    number = (text or "").strip()
    if not TRACKING.match(number):
        return None
    return number.replace(" ", "").upper()
