"""The Ozon Seller API client (docs/ozon.md).

Every method is a POST with a JSON body and the seller's `Client-Id` and `Api-Key`. Calls are
limited to 50 a second per client (Ozon's limit per Client-Id) and to a method's own limit where
one is given. What Ozon says means "back off" (HTTP 429, the rate-limit and "Circle is open"
texts, 5xx, a timeout or a dropped connection) is tried again a bounded number of times after a
jittered, doubling pause; any other refusal raises `OzonApiError` with Ozon's message at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from bot.marketplaces.ozon.errors import OzonApiError, OzonShapeError, OzonUnavailableError
from bot.marketplaces.ozon.limiter import RateLimiter
from bot.marketplaces.ozon.models import (
    CancellationPage,
    Posting,
    PostingPage,
    ReturnPage,
    RfbsReturnDetail,
    RfbsReturnPage,
    Role,
    parse_cancellation_page,
    parse_posting_page,
    parse_return_page,
    parse_rfbs_return_detail,
    parse_rfbs_return_page,
    parse_roles,
)
from bot.marketplaces.ozon.parsing import ShapeError, utc_text
from bot.marketplaces.ozon.unconfirmed import Fact, met

log = logging.getLogger(__name__)
BASE_URL = "https://api-seller.ozon.ru"
GLOBAL_PER_SECOND = 50
# Ozon's words for "back off" (docs/ozon.md): the per-second limit, and a method blocked for
# some minutes under load.
RATE_LIMITED = "rate limit"
CIRCLE_OPEN = "circle is open"
# The action ids the reference names, and what each needs (the others come only from a
# return's available_actions: docs/ozon.md).
ACTIONS_NEEDING_REASON = frozenset({-1, -10})
ACTION_COMPENSATE = 1020


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    first_pause: float = 1.0  # seconds before the second try; doubles after each
    longest_pause: float = 30.0
    timeout: float = 30.0  # seconds for one call

    def pause(self, retry: int, rng: random.Random) -> float:
        """Full jitter: anywhere up to the doubling ceiling, so clients that failed together do
        not come back together."""
        ceiling = min(self.longest_pause, self.first_pause * 2**retry)
        return rng.uniform(ceiling / 2, ceiling)


class OzonClient:
    def __init__(
        self,
        client_id: str,
        api_key: str,
        *,
        base_url: str = BASE_URL,
        retry: RetryPolicy | None = None,
        method_limits: dict[str, int] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not client_id or not api_key:
            raise ValueError("an Ozon client needs a Client-Id and an Api-Key")
        self.client_id = client_id
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self._limit = RateLimiter(GLOBAL_PER_SECOND)
        self._method_limits = {m: RateLimiter(n) for m, n in (method_limits or {}).items()}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={
                "Client-Id": client_id,
                "Api-Key": api_key,
                "Content-Type": "application/json",
            },
            timeout=self.retry.timeout,
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OzonClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- the call ------------------------------------------------------------------------------

    async def call(
        self, method: str, body: dict[str, Any], *, changes: bool = False
    ) -> dict[str, Any]:
        """POST `body` to `method`; Ozon's JSON answer, after backing off where it says to.

        A call that `changes` something on Ozon (an action on a return, a decision on a
        cancellation) is tried again only when Ozon surely did not act: it said to back off
        (rate limit, "Circle is open", 429) or the connection was never made. After a timeout,
        a dropped connection or a 5xx it may have acted, so it is not sent again:
        OzonUnavailableError with `maybe_applied`, and the caller looks the state up before
        acting again."""
        last = ""
        for attempt in range(self.retry.attempts):
            if attempt:
                await self._sleep(self.retry.pause(attempt - 1, self._rng))
            await self._limit.acquire()
            if method in self._method_limits:
                await self._method_limits[method].acquire()
            answer, last, untouched = await self._try(method, body)
            if answer is not None:
                return answer
            if changes and not untouched:
                raise OzonUnavailableError(method, attempt + 1, last, maybe_applied=True)
            log.info("Ozon %s: %s (try %d of %d)", method, last, attempt + 1, self.retry.attempts)
        raise OzonUnavailableError(method, self.retry.attempts, last)

    async def _try(
        self, method: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str, bool]:
        """One try: Ozon's answer; or, when it says to back off or none came, why, and whether
        Ozon surely did not act. Any other refusal raises OzonApiError."""
        try:
            response = await self._http.post(method, content=json.dumps(body))
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return None, f"could not connect ({type(error).__name__})", True
        except httpx.TimeoutException:
            return None, f"no answer within {self.retry.timeout:g} s", False
        except httpx.TransportError as error:
            return None, f"connection failed ({type(error).__name__})", False
        answer = _json(response)
        if response.is_success:
            return (answer if isinstance(answer, dict) else {}), "", True
        code, message, details = _rpc_status(answer, response)
        if not _back_off(response.status_code, message):
            raise OzonApiError(method, response.status_code, code, message, details)
        if RATE_LIMITED in message.lower():
            met(Fact.RATE_LIMIT_STATUS, f"HTTP {response.status_code}")
        status = response.status_code
        return None, f"HTTP {status}: {message}", _surely_not_applied(status, message)

    # -- postings ------------------------------------------------------------------------------

    async def list_fbs_postings(
        self,
        *,
        since: datetime,
        to: datetime,
        cursor: str = "",
        limit: int = 100,
        changed_since: datetime | None = None,
        statuses: list[str] | None = None,
    ) -> PostingPage:
        """One page of FBS/rFBS postings (/v4/posting/fbs/list, cursor-paged)."""
        filters: dict[str, Any] = {"since": utc_text(since), "to": utc_text(to)}
        if changed_since is not None:
            filters["last_changed_status_date"] = {
                "from": utc_text(changed_since),
                "to": utc_text(to),
            }
        if statuses:
            filters["statuses"] = statuses
        body: dict[str, Any] = {"filter": filters, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        return parse_posting_page(await self.call("/v4/posting/fbs/list", body))

    async def iter_fbs_postings(
        self, *, since: datetime, to: datetime, limit: int = 100
    ) -> AsyncIterator[Posting]:
        cursor = ""
        while True:
            page = await self.list_fbs_postings(since=since, to=to, cursor=cursor, limit=limit)
            for posting in page.postings:
                yield posting
            if not page.has_next or not page.cursor:
                return
            cursor = page.cursor

    # -- rFBS returns --------------------------------------------------------------------------

    async def list_rfbs_returns(
        self,
        *,
        limit: int = 100,
        last_id: int | None = None,
        group_state: list[str] | None = None,
        posting_number: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> RfbsReturnPage:
        filters: dict[str, Any] = {}
        if group_state:
            filters["group_state"] = group_state
        if posting_number:
            filters["posting_number"] = posting_number
        if created_from is not None and created_to is not None:
            filters["created_at"] = {"from": utc_text(created_from), "to": utc_text(created_to)}
        body: dict[str, Any] = {"limit": limit}
        if last_id is not None:
            body["last_id"] = last_id
        if filters:
            body["filter"] = filters
        return parse_rfbs_return_page(await self.call("/v2/returns/rfbs/list", body))

    async def get_rfbs_return(self, return_id: int) -> RfbsReturnDetail:
        body = await self.call("/v2/returns/rfbs/get", {"return_id": return_id})
        try:
            return parse_rfbs_return_detail(body, return_id)
        except ShapeError as error:
            raise OzonShapeError("/v2/returns/rfbs/get", str(error)) from error

    async def set_rfbs_return_action(
        self,
        return_id: int,
        action_id: int,
        *,
        comment: str | None = None,
        rejection_reason_id: int | None = None,
        compensation_amount: Decimal | None = None,
        return_for_back_way: Decimal | None = None,
    ) -> None:
        """Carry out one of the return's `available_actions` (/v1/returns/rfbs/action/set).
        Which ids approve or refund is not documented: take `action_id` from the return."""
        if action_id in ACTIONS_NEEDING_REASON and (not comment or rejection_reason_id is None):
            raise ValueError(f"action {action_id} needs a comment and a rejection_reason_id")
        if action_id == ACTION_COMPENSATE and compensation_amount is None:
            raise ValueError(f"action {ACTION_COMPENSATE} needs a compensation_amount")
        if action_id not in ACTIONS_NEEDING_REASON | {ACTION_COMPENSATE}:
            met(Fact.ACTION_ID_UNDOCUMENTED, f"id {action_id}")
        body: dict[str, Any] = {"return_id": return_id, "id": action_id}
        if comment is not None:
            body["comment"] = comment
        if rejection_reason_id is not None:
            body["rejection_reason_id"] = rejection_reason_id
        # The reference types these as doubles; an exact decimal of two places survives the
        # trip through a double's shortest form.
        if compensation_amount is not None:
            body["compensation_amount"] = float(compensation_amount)
        if return_for_back_way is not None:
            body["return_for_back_way"] = float(return_for_back_way)
        await self.call("/v1/returns/rfbs/action/set", body, changes=True)

    # -- FBO/FBS returns -----------------------------------------------------------------------

    async def list_returns(
        self, *, limit: int = 500, last_id: int | None = None, filters: dict[str, Any] | None = None
    ) -> ReturnPage:
        """FBO/FBS returns (/v1/returns/list), read-only."""
        body: dict[str, Any] = {"limit": limit}
        if last_id is not None:
            body["last_id"] = last_id
        if filters:
            body["filter"] = filters
        return parse_return_page(await self.call("/v1/returns/list", body))

    # -- conditional cancellations -------------------------------------------------------------

    async def list_cancellations(
        self,
        *,
        limit: int = 100,
        last_id: int | None = None,
        state: str | None = None,
        posting_numbers: list[str] | None = None,
        initiators: list[str] | None = None,
        counter: bool = False,
    ) -> CancellationPage:
        filters: dict[str, Any] = {}
        if state:
            filters["state"] = state
        if posting_numbers:
            filters["posting_number"] = posting_numbers
        if initiators:
            filters["cancellation_initiator"] = initiators
        body: dict[str, Any] = {"limit": limit}
        if last_id is not None:
            body["last_id"] = last_id
        if filters:
            body["filters"] = filters
        if counter:
            body["with"] = {"counter": True}
        return parse_cancellation_page(await self.call("/v2/conditional-cancellation/list", body))

    async def approve_cancellation(self, cancellation_id: int, comment: str = "") -> None:
        await self._decide("approve", cancellation_id, comment)

    async def reject_cancellation(self, cancellation_id: int, comment: str = "") -> None:
        await self._decide("reject", cancellation_id, comment)

    async def _decide(self, verb: str, cancellation_id: int, comment: str) -> None:
        body: dict[str, Any] = {"cancellation_id": cancellation_id}
        if comment:
            body["comment"] = comment
        await self.call(f"/v2/conditional-cancellation/{verb}", body, changes=True)

    # -- the key -------------------------------------------------------------------------------

    async def roles(self) -> list[Role]:
        """What this key may call (/v1/roles)."""
        met(Fact.ROLES_SHAPE)
        return parse_roles(await self.call("/v1/roles", {}))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _rpc_status(answer: Any, response: httpx.Response) -> tuple[int | None, str, list[Any]]:
    """Ozon's error `{code, message, details}`; a body of another shape (a proxy's page) is
    described by its status and first words."""
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        code = answer.get("code")
        details = answer.get("details")
        return (
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            answer["message"],
            details if isinstance(details, list) else [],
        )
    said = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    return None, said or response.reason_phrase or "no message", []


def _surely_not_applied(status: int, message: str) -> bool:
    """Ozon refused to take the call at all: its rate limit, or the method's circuit open."""
    lowered = message.lower()
    return status == 429 or RATE_LIMITED in lowered or CIRCLE_OPEN in lowered


def _back_off(status: int, message: str) -> bool:
    lowered = message.lower()
    return status == 429 or status >= 500 or RATE_LIMITED in lowered or CIRCLE_OPEN in lowered


# What ReturnDesk calls, by what it is for (`returndesk ozon check` compares a key's roles with
# it: docs/ozon.md).
NEEDED_METHODS: dict[str, tuple[str, ...]] = {
    "orders (FBS/rFBS postings)": ("/v4/posting/fbs/list",),
    "rFBS returns": (
        "/v2/returns/rfbs/list",
        "/v2/returns/rfbs/get",
        "/v1/returns/rfbs/action/set",
    ),
    "FBO/FBS returns (read-only)": ("/v1/returns/list",),
    "conditional cancellations": (
        "/v2/conditional-cancellation/list",
        "/v2/conditional-cancellation/approve",
        "/v2/conditional-cancellation/reject",
    ),
}
