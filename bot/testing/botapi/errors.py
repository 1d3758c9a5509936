"""Error answers as Telegram words them, and the faults a test can inject."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
FILE_GONE = "wrong file_id or the file is temporarily unavailable"  # getFile, for good
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_A_FORUM = "the chat is not a forum"


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": code, "description": ...}`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class DropConnection(Exception):  # noqa: N818 - an instruction, not an error
    """Close the connection without answering, like a proxy dying mid-request."""


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.code)


FAULTS: dict[str, Callable[[int], Exception]] = {
    "429": too_many_requests,
    "500": lambda _: ApiError(500, "Internal Server Error"),
    "502": lambda _: ApiError(502, "Bad Gateway"),
    "drop": lambda _: DropConnection(),
    "blocked": lambda _: ApiError(403, BLOCKED),
    "gone": lambda _: bad_request(FILE_GONE),
}


@dataclass
class Fault:
    method: str  # lower-case method name, or "*"
    kind: str
    remaining: int
    retry_after: int
    skip: int = 0  # calls let through before the first that fails

    def error(self) -> Exception:
        return FAULTS[self.kind](self.retry_after)


@dataclass
class Slowness:
    method: str  # lower-case method name, or "*"
    seconds: float
    remaining: int
