"""Signed order links and the hashed checks a buyer claims an order with (docs/claiming.md).

A link's token goes into Telegram's start parameter, which takes at most 64 of A-Z, a-z, 0-9,
`_` and `-`. It is the order's id and the hour its link expires, packed in 8 bytes, followed by
the first 12 bytes of an HMAC-SHA256 of them (RFC 2104, through the standard library's `hmac`),
all in unpadded URL-safe base64: 27 characters after the `c` that marks it as a claim.

The phone digits and postal code an import carries are kept only as HMACs under the same
secret, so a copy of the database does not give them away; they are compared in constant time.
Pure functions of the secret: no clock (the caller gives "now"), no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

PREFIX = "c"
_PACK = struct.Struct(">II")  # order id, expiry in hours since 1970
_MAC_BYTES = 12  # 96 bits: a forger's guess succeeds once in 2**96
_HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOKEN = re.compile(r"c[A-Za-z0-9_-]{27}")


class CheckKind(StrEnum):
    """What a buyer who types an order's number is asked to prove it is theirs with."""

    PHONE_LAST4 = "phone_last4"
    POSTAL_CODE = "postal_code"


class TokenState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    FORGED = "forged"  # not made with this secret, changed, or not a token at all


@dataclass(frozen=True, slots=True)
class Reading:
    state: TokenState
    order_id: int | None = None  # known once the signature holds (expired or valid)


@dataclass(frozen=True, slots=True)
class ClaimKeys:
    """The link secret's uses, each under its own derived key, so a token's MAC can never
    serve as a stored check's hash or the other way round."""

    secret: bytes

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()

    # -- links --------------------------------------------------------------------------------
    def token(self, order_id: int, expires_at: datetime) -> str:
        hours = -(-(expires_at - _EPOCH) // _HOUR)  # rounded up: never shorter than asked
        body = _PACK.pack(order_id, hours)
        mac = hmac.new(self._key("link"), body, hashlib.sha256).digest()[:_MAC_BYTES]
        return PREFIX + base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def read(self, token: str, now: datetime) -> Reading:
        if not TOKEN.fullmatch(token):
            return Reading(TokenState.FORGED)
        try:
            raw = base64.urlsafe_b64decode(token[1:] + "=")
        except (binascii.Error, ValueError):
            return Reading(TokenState.FORGED)
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token[1:]:
            return Reading(TokenState.FORGED)  # unused low bits set: one token, one spelling
        body, mac = raw[: _PACK.size], raw[_PACK.size :]
        expected = hmac.new(self._key("link"), body, hashlib.sha256).digest()[:_MAC_BYTES]
        if not hmac.compare_digest(mac, expected):
            return Reading(TokenState.FORGED)
        order_id, hours = _PACK.unpack(body)
        if now >= _EPOCH + hours * _HOUR:
            return Reading(TokenState.EXPIRED, order_id)
        return Reading(TokenState.VALID, order_id)

    # -- checks -------------------------------------------------------------------------------
    def fingerprint(self, kind: CheckKind, value: str) -> str | None:
        """The stored form of a check's answer; None when nothing usable was given."""
        cleaned = normalise(kind, value)
        if not cleaned:
            return None
        return hmac.new(self._key(f"check:{kind}"), cleaned.encode(), hashlib.sha256).hexdigest()

    def matches(self, kind: CheckKind, value: str, stored: str) -> bool:
        given = self.fingerprint(kind, value) or ""
        return hmac.compare_digest(given.encode(), stored.encode())


def normalise(kind: CheckKind, value: str) -> str:
    """What is compared: the last four digits of a phone however it is written, a postal
    code without spaces or dashes and in capitals (UK and Canadian codes have letters)."""
    if kind is CheckKind.PHONE_LAST4:
        digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
        return digits[-4:] if len(digits) >= 4 else ""
    return "".join(ch for ch in value.upper() if ch.isalnum())
