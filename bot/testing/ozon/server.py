"""A fake Ozon Seller API on loopback, built from the published reference (docs/ozon.md).

It is never more lenient than Ozon: every call is a POST with JSON, the `Client-Id` and `Api-Key`
must match a seller, the key needs a role that allows the method, at most 50 calls a second are
answered per Client-Id, required fields and their types are checked, and errors come as Ozon's
`{code, message, details}`. Tests flip `faults` to have a method answer 429, "Circle is open",
a 5xx, or nothing at all.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from aiohttp import web

from bot.testing.ozon.data import (
    RATE_LIMIT,
    FakeCancellation,
    FakePosting,
    FakeProduct,
    FakeReturn,
    FakeRfbsReturn,
    FakeSeller,
    Fault,
)

POSTING_STATUSES = frozenset(
    {
        "awaiting_registration",
        "acceptance_in_progress",
        "awaiting_approve",
        "awaiting_packaging",
        "awaiting_deliver",
        "arbitration",
        "client_arbitration",
        "delivering",
        "driver_pickup",
        "delivered",
        "cancelled",
        "not_accepted",
        "sent_by_seller",
        "awaiting_verification",
        "cancelled_from_split_pending",
    }
)
GROUP_STATES = frozenset(
    {"All", "New", "Delivering", "Checkout", "Arbitration", "Approved", "Rejected"}
)
CANCELLATION_STATES = frozenset({"ALL", "ON_APPROVAL", "APPROVED", "REJECTED"})
INITIATORS = frozenset({"OZON", "SELLER", "CLIENT", "SYSTEM", "DELIVERY"})
RETURNS_FILTERS = frozenset(
    {
        "logistic_return_date",
        "visual_status_change_moment",
        "order_id",
        "posting_numbers",
        "offer_id",
        "visual_status_name",
        "return_schema",
    }
)
INT32_MAX = 2**31 - 1
GLOBAL_PER_SECOND = 50


class RefusedError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> RefusedError:
    return RefusedError(400, 3, message)


@dataclass
class Call:
    method: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeOzon:
    sellers: list[FakeSeller] = field(default_factory=list)
    # Per method ("*" for any): faults answered first, one per call, before the real answer.
    faults: dict[str, deque[Fault | None]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[Call] = field(default_factory=list)
    # The shapes seen in the wild where the reference and its examples differ.
    returns_shape: Literal["object", "list"] = "list"
    price_shape: Literal["string", "number"] = "string"
    action_shape: Literal["flat", "nested"] = "flat"
    # Postings priced as the v4 example ({amount, currency}) or the v3 schema (string).
    posting_price_shape: Literal["v4", "v3"] = "v4"
    global_per_second: int = GLOBAL_PER_SECOND
    url: str = ""
    _runner: web.AppRunner | None = None
    _hanging: asyncio.Event = field(default_factory=asyncio.Event)
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def seller(self, client_id: str, api_key: str) -> FakeSeller:
        seller = FakeSeller(client_id, api_key)
        self.sellers.append(seller)
        return seller

    def fail(self, fault: Fault, *, times: int = 1, method: str = "*", after: int = 0) -> None:
        """Answer `fault` `times` times, after answering `after` calls as usual."""
        self.faults[method].extend([None] * after + [fault] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{method:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._hanging.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- one call ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = "/" + request.match_info["method"]
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.calls.append(Call(method, dict(request.headers), body))
        try:
            answer = await self._answer(request, method, raw)
        except RefusedError as refusal:
            return _error(refusal.status, refusal.code, refusal.message)
        return web.json_response(answer)

    async def _answer(self, request: web.Request, method: str, raw: bytes) -> dict[str, Any]:
        if request.method != "POST":
            raise RefusedError(405, 12, "Method Not Allowed")
        handler = _METHODS.get(method)
        if handler is None:
            raise RefusedError(404, 5, "Not Found")
        client_id = request.headers.get("Client-Id", "")
        api_key = request.headers.get("Api-Key", "")
        if not client_id:
            raise _bad("Client-Id is not specified")
        if not api_key:
            raise RefusedError(403, 7, "Api-Key is not specified")
        seller = next((s for s in self.sellers if s.client_id == client_id), None)
        if seller is None or seller.api_key != api_key:
            raise RefusedError(403, 7, "Invalid Api-Key, please contact support")
        if not self._within_limit(client_id):
            raise RefusedError(RATE_LIMIT.status, RATE_LIMIT.code, RATE_LIMIT.message)
        fault = self._next_fault(method)
        if fault is not None:
            if fault.hang:
                await self._hanging.wait()
                raise RefusedError(504, 4, "Gateway Timeout")
            raise RefusedError(fault.status, fault.code, fault.message)
        if not seller.allows(method):
            raise RefusedError(403, 7, "Api-Key is missing a required role for a method")
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise _bad("Content-Type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise _bad("invalid request payload: not JSON") from exc
        if not isinstance(body, dict):
            raise _bad("invalid request payload: expected an object")
        result: dict[str, Any] = handler(self, seller, body)
        return result

    def _within_limit(self, client_id: str) -> bool:
        now = time.monotonic()
        recent = self._recent[client_id]
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.global_per_second:
            return False
        recent.append(now)
        return True

    def _next_fault(self, method: str) -> Fault | None:
        for key in (method, "*"):
            if self.faults.get(key):
                return self.faults[key].popleft()  # None: this call is answered as usual
        return None

    # -- postings ------------------------------------------------------------------------------

    def _postings(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        limit = _need(body, "limit", low=1, high=1000)
        filters = _object(body, "filter", required=True)
        since = _time(filters, "since", required=True)
        to = _time(filters, "to", required=True)
        assert since is not None
        assert to is not None
        if to < since:
            raise _bad("filter.to must not be before filter.since")
        if to - since > timedelta(days=366):
            raise _bad("filter: since and to must be at most one year apart")
        statuses = _strings(filters, "statuses")
        if unknown := set(statuses) - POSTING_STATUSES:
            raise _bad(f"filter.statuses: unknown {sorted(unknown)}")
        changed = _object(filters, "last_changed_status_date")
        changed_from = _time(changed, "from") if changed else None
        changed_to = _time(changed, "to") if changed else None
        offset = _cursor(body.get("cursor"))
        found = sorted(
            (
                p
                for p in seller.postings
                if since <= p.in_process_at <= to
                and (not statuses or p.status in statuses)
                and (changed_from is None or _changed(p) >= changed_from)
                and (changed_to is None or _changed(p) <= changed_to)
            ),
            key=lambda p: (p.in_process_at, p.posting_number),
        )
        page = found[offset : offset + limit]
        has_next = offset + limit < len(found)
        return {
            "postings": [self._posting(p) for p in page],
            "cursor": _encode_cursor(offset + limit) if has_next else "",
            "has_next": has_next,
        }

    def _posting(self, posting: FakePosting) -> dict[str, Any]:
        products = []
        for product in posting.products:
            entry: dict[str, Any] = {
                "sku": product.sku,
                "offer_id": product.offer_id,
                "name": product.name,
                "quantity": product.quantity,
            }
            if self.posting_price_shape == "v4":
                entry["price"] = {
                    "amount": self._price(product.price),
                    "currency": product.currency_code,
                }
            else:
                entry["price"] = self._price(product.price)
                entry["currency_code"] = product.currency_code
            products.append(entry)
        data: dict[str, Any] = {
            "posting_number": posting.posting_number,
            "order_number": posting.order_number,
            "order_id": posting.order_id,
            "status": posting.status,
            "in_process_at": _iso(posting.in_process_at),
            "shipment_date": _iso(posting.shipment_date),
            "delivering_date": _iso(posting.delivering_date),
            "tracking_number": posting.tracking_number,
            "customer": {"customer_id": 0, "name": posting.customer_name, "phone": ""}
            if posting.customer_name
            else None,
            "products": products,
        }
        data.update(posting.override)
        return data

    def _price(self, price: str) -> Any:
        if self.price_shape == "number":
            return float(Decimal(price)) if "." in price else int(Decimal(price))
        return price

    # -- rFBS returns --------------------------------------------------------------------------

    def _rfbs_list(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        limit = _need(body, "limit", low=1, high=INT32_MAX)
        last_id = _int(body, "last_id", low=0, high=INT32_MAX) or 0
        filters = _object(body, "filter")
        groups = _strings(filters, "group_state")
        if unknown := set(groups) - GROUP_STATES:
            raise _bad(f"filter.group_state: unknown {sorted(unknown)}")
        posting_number = _str(filters, "posting_number")
        offer_id = _str(filters, "offer_id")
        created = _object(filters, "created_at")
        created_from = _time(created, "from") if created else None
        created_to = _time(created, "to") if created else None
        found = [
            r
            for r in sorted(seller.rfbs_returns, key=lambda r: r.return_id)
            if r.return_id > last_id
            and (not groups or "All" in groups or r.group_state in groups)
            and (not posting_number or r.posting_number == posting_number)
            and (not offer_id or r.product.offer_id == offer_id)
            and (created_from is None or r.created_at >= created_from)
            and (created_to is None or r.created_at <= created_to)
        ][:limit]
        listed = [self._rfbs_summary(r) for r in found]
        if self.returns_shape == "object":
            # The reference's type: one object. Only one return fits in it, so a page of one.
            return {"returns": listed[0] if listed else {}}
        return {"returns": listed}

    def _rfbs_product(self, product: FakeProduct) -> dict[str, Any]:
        return {
            "sku": product.sku,
            "offer_id": product.offer_id,
            "name": product.name,
            "price": self._price(product.price),
            "currency_code": product.currency_code,
        }

    def _rfbs_summary(self, r: FakeRfbsReturn) -> dict[str, Any]:
        return {
            "return_id": r.return_id,
            "return_number": r.return_number,
            "order_number": r.order_number,
            "posting_number": r.posting_number,
            "client_name": r.client_name,
            "created_at": _iso(r.created_at),
            "product": self._rfbs_product(r.product),
            "state": {
                "group_state": r.group_state,
                "state": r.return_state,
                "state_name": r.state_name,
                "money_return_state_name": r.money_return_state_name,
            },
        }

    def _rfbs_get(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        return_id = _int(body, "return_id", required=True, low=1)
        found = seller.rfbs_return(return_id or 0)
        if found is None:
            raise RefusedError(404, 5, "return not found")
        actions: list[dict[str, Any]] = [{"id": i, "name": n} for i, n in found.available_actions]
        if self.action_shape == "nested":
            actions = [{"action": a} for a in actions]
        detail = {
            "return_id": found.return_id,
            "order_number": found.order_number,
            "posting_number": found.posting_number,
            "available_actions": actions,
            "rejection_reason": [
                {"id": i, "name": n, "hint": h, "is_comment_required": c}
                for i, n, h, c in found.rejection_reasons
            ],
            "return_reason": dict(
                zip(("id", "name", "is_defect"), found.return_reason, strict=True)
            ),
            "client_photo": list(found.client_photo),
            "comment": found.comment,
            "return_method_description": found.return_method_description,
            "ru_post_tracking_number": found.ru_post_tracking_number,
            "state": {"state": found.return_state, "state_name": found.state_name},
            "product": self._rfbs_product(found.product),
        }
        return {"returns": detail if self.returns_shape == "object" else [detail]}

    def _rfbs_action(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        return_id = _int(body, "return_id", required=True, low=1)
        action_id = _int(body, "id", required=True, low=-INT32_MAX)
        found = seller.rfbs_return(return_id or 0)
        if found is None:
            raise RefusedError(404, 5, "return not found")
        if action_id not in {i for i, _ in found.available_actions}:
            raise _bad(f"action {action_id} is not available for return {return_id}")
        comment = _str(body, "comment")
        reason = _int(body, "rejection_reason_id")
        if action_id in (-1, -10):
            if not comment or reason is None:
                raise _bad("comment and rejection_reason_id are required for this action")
            if reason not in {r[0] for r in found.rejection_reasons}:
                raise _bad(f"rejection_reason_id {reason} is not one of the return's")
        for name in ("compensation_amount", "return_for_back_way"):
            if name in body and (
                isinstance(body[name], bool) or not isinstance(body[name], int | float)
            ):
                raise _bad(f"{name}: expected a number")
        if action_id == 1020 and not body.get("compensation_amount"):
            raise _bad("compensation_amount is required for this action")
        found.actions_taken.append(dict(body))
        transition = found.transitions.get(action_id or 0)
        if transition is None:
            found.available_actions = []
        else:
            found.return_state = transition.state
            found.state_name = transition.state_name
            found.group_state = transition.group_state
            found.money_return_state_name = transition.money_return_state_name
            found.available_actions = list(transition.then)
        return {}

    # -- FBO/FBS returns -----------------------------------------------------------------------

    def _returns(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        limit = _need(body, "limit", low=1, high=500)
        last_id = _int(body, "last_id", low=0) or 0
        filters = _object(body, "filter")
        given = [k for k, v in filters.items() if v not in (None, "", [], {})]
        if unknown := set(given) - RETURNS_FILTERS:
            raise _bad(f"filter: unknown {sorted(unknown)}")
        if len(given) > 1:
            raise _bad("filter: only one filter may be used per request")
        numbers = _strings(filters, "posting_numbers")
        if len(numbers) > 50:
            raise _bad("filter.posting_numbers: at most 50")
        schema = _str(filters, "return_schema")
        if schema and schema not in ("FBS", "FBO"):
            raise _bad("filter.return_schema: FBS or FBO")
        status = _str(filters, "visual_status_name")
        matching = [
            r
            for r in sorted(seller.returns, key=lambda r: r.id)
            if r.id > last_id
            and (not numbers or r.posting_number in numbers)
            and (not schema or r.schema == schema)
            and (not status or r.status_sys_name == status)
        ]
        page = matching[:limit]
        return {
            "returns": [self._return(r) for r in page],
            "has_next": len(matching) > limit,
        }

    def _return(self, r: FakeReturn) -> dict[str, Any]:
        return {
            "id": r.id,
            "order_number": r.order_number,
            "posting_number": r.posting_number,
            "return_reason_name": r.return_reason_name,
            "type": r.type,
            "schema": r.schema,
            "product": {
                "sku": r.product.sku,
                "offer_id": r.product.offer_id,
                "name": r.product.name,
                "quantity": r.product.quantity,
                "price": {
                    "price": self._price(r.product.price),
                    "currency_code": r.product.currency_code,
                },
            },
            "logistic": {"return_date": _iso(r.return_date), "barcode": ""},
            "visual": {
                "status": {
                    "id": 0,
                    "display_name": r.status_display_name,
                    "sys_name": r.status_sys_name,
                },
                "change_moment": _iso(r.status_changed_at),
            },
        }

    # -- conditional cancellations -------------------------------------------------------------

    def _cancellations(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        limit = _need(body, "limit", low=1, high=INT32_MAX)
        last_id = _int(body, "last_id", low=0) or 0
        filters = _object(body, "filters")
        initiators = _strings(filters, "cancellation_initiator")
        if unknown := set(initiators) - INITIATORS:
            raise _bad(f"filters.cancellation_initiator: unknown {sorted(unknown)}")
        numbers = _strings(filters, "posting_number")
        state = _str(filters, "state")
        if state and state not in CANCELLATION_STATES:
            raise _bad(f"filters.state: unknown {state!r}")
        matching = [
            c
            for c in sorted(seller.cancellations, key=lambda c: c.cancellation_id)
            if (not initiators or c.initiator in initiators)
            and (not numbers or c.posting_number in numbers)
            and state in ("", "ALL", c.cancellation_state)
        ]
        page = [c for c in matching if c.cancellation_id > last_id][:limit]
        answer: dict[str, Any] = {
            "result": [_cancellation(c) for c in page],
            "last_id": page[-1].cancellation_id if page else 0,
        }
        wanted = _object(body, "with")
        if wanted.get("counter"):
            answer["counter"] = len(matching)
        return answer

    def _cancellation_decision(self, new_state: str) -> Any:
        def decide(_: FakeOzon, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
            cancellation_id = _int(body, "cancellation_id", required=True, low=1)
            found = seller.cancellation(cancellation_id or 0)
            if found is None:
                raise RefusedError(404, 5, "cancellation not found")
            if found.cancellation_state != "ON_APPROVAL":
                raise _bad(
                    f"cancellation {cancellation_id} is {found.cancellation_state}, not ON_APPROVAL"
                )
            found.cancellation_state = new_state
            found.approve_comment = _str(body, "comment")
            return {}

        return decide

    # -- roles ---------------------------------------------------------------------------------

    def _roles(self, seller: FakeSeller, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "roles": [
                {"name": r.name, "methods": list(r.methods), "expires_at": _iso(r.expires_at)}
                for r in seller.roles
            ]
        }


def _changed(posting: FakePosting) -> datetime:
    return posting.status_changed_at or posting.in_process_at


def _cancellation(c: FakeCancellation) -> dict[str, Any]:
    names = {"ON_APPROVAL": "На согласовании", "APPROVED": "Подтверждена", "REJECTED": "Отклонена"}
    return {
        "cancellation_id": c.cancellation_id,
        "posting_number": c.posting_number,
        "cancellation_reason": {"id": c.reason_id, "name": c.reason_name},
        "cancellation_reason_message": c.reason_message,
        "cancelled_at": _iso(c.cancelled_at),
        "cancellation_initiator": c.initiator,
        "state": {
            "id": 0,
            "name": names.get(c.cancellation_state, c.cancellation_state),
            "state": c.cancellation_state,
        },
        "auto_approve_date": _iso(c.auto_approve_date),
        "approve_comment": c.approve_comment,
    }


_METHODS: dict[str, Any] = {
    "/v4/posting/fbs/list": FakeOzon._postings,
    "/v2/returns/rfbs/list": FakeOzon._rfbs_list,
    "/v2/returns/rfbs/get": FakeOzon._rfbs_get,
    "/v1/returns/rfbs/action/set": FakeOzon._rfbs_action,
    "/v1/returns/list": FakeOzon._returns,
    "/v2/conditional-cancellation/list": FakeOzon._cancellations,
    "/v2/conditional-cancellation/approve": lambda self, s, b: self._cancellation_decision(
        "APPROVED"
    )(self, s, b),
    "/v2/conditional-cancellation/reject": lambda self, s, b: self._cancellation_decision(
        "REJECTED"
    )(self, s, b),
    "/v1/roles": FakeOzon._roles,
}


# -- checking a body ---------------------------------------------------------------------------


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "details": []}, status=status)


def _object(body: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        if required:
            raise _bad(f"{key}: is required")
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{key}: expected an object")
    return value


def _int(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    low: int = -(2**63),
    high: int = 2**63 - 1,
) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _bad(f"{key}: is required")
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)  # int64 fields are strings in protobuf's JSON, and are accepted so
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{key}: expected an integer")
    if not low <= value <= high:
        raise _bad(f"{key}: must be between {low} and {high}")
    return value


def _need(body: dict[str, Any], key: str, *, low: int, high: int) -> int:
    value = _int(body, key, required=True, low=low, high=high)
    assert value is not None
    return value


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(f"{key}: expected a string")
    return value


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{key}: expected a list of strings")
    return value


def _time(body: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _bad(f"{key}: is required")
        return None
    if not isinstance(value, str):
        raise _bad(f"{key}: expected an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(f"{key}: {value!r} is not an RFC 3339 time") from exc
    if parsed.tzinfo is None:
        raise _bad(f"{key}: {value!r} has no time zone")
    return parsed.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _cursor(value: Any) -> int:
    if value in (None, ""):
        return 0
    if not isinstance(value, str):
        raise _bad("cursor: expected a string")
    try:
        offset = json.loads(base64.urlsafe_b64decode(value.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _bad("cursor: invalid") from exc
    if not isinstance(offset, int) or offset < 0:
        raise _bad("cursor: invalid")
    return offset
