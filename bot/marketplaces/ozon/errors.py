"""What a call to the Ozon Seller API can end in, besides an answer."""

from __future__ import annotations

from typing import Any


class OzonError(Exception):
    """Any failure of a call to Ozon."""


class OzonApiError(OzonError):
    """Ozon refused the call: its `{code, message, details}` with the HTTP status. Not retried:
    asking again would get the same answer."""

    def __init__(
        self,
        method: str,
        status: int,
        code: int | None,
        message: str,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(f"Ozon {method} refused it (HTTP {status}, code {code}): {message}")
        self.method = method
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []

    @property
    def unauthorized(self) -> bool:
        """A wrong or missing key, or one without the role the method needs."""
        return self.status in (401, 403)


class OzonUnavailableError(OzonError):
    """Ozon kept asking to back off (rate limit, "Circle is open"), failing (5xx) or not
    answering in time, for every one of the tries allowed."""

    def __init__(
        self, method: str, attempts: int, last: str, *, maybe_applied: bool = False
    ) -> None:
        super().__init__(f"Ozon {method} did not answer after {attempts} tries: {last}")
        self.method = method
        self.attempts = attempts
        self.last = last
        # A call that changes something may have been carried out though no answer came:
        # look the state up before acting again.
        self.maybe_applied = maybe_applied


class OzonShapeError(OzonError):
    """Ozon answered, but not in a shape the reference (or its examples) gives."""

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"Ozon {method} answered in an unknown shape: {reason}")
        self.method = method
        self.reason = reason
