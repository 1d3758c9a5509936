"""POST /api/orders and GET /api/openapi.json.

A push is the order import (bot/services/importer.py) with an HTTP body for a file: the same
reading, checks and upsert, in one transaction, each order in a savepoint of its own. So a push
is idempotent as an import is, a refused order is reported with its position and the good ones
are written, and nothing is ever half an order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.app import App
from bot.config.settings import ApiSettings
from bot.engine.processor import CONFLICT_PAUSE, CONFLICT_TRIES, CONFLICTS
from bot.runtime.shop_api.openapi import document
from bot.runtime.shop_api.tokens import SellerTokens
from bot.services.importer import ImportReport, import_rows
from bot.services.order_files import ImportProblem, json_orders

log = logging.getLogger(__name__)
ORDERS = "/api/orders"
OPENAPI = "/api/openapi.json"
CHALLENGE = 'Bearer realm="returndesk"'


def shop_api(app: App, settings: ApiSettings) -> Callable[[web.Application], None]:
    """The function that adds the shop API's routes to a web application (an
    http_server.AddRoutes). Reads the sellers' tokens now: SettingsError if they are wrong."""
    tokens = SellerTokens.load(settings, app.shop)
    if not tokens.sellers:
        log.info("no seller has an API token (RETURNDESK_API_TOKENS): every push is refused")
    limit = settings.max_body_bytes
    described = document()

    async def push(request: web.Request) -> web.Response:
        seller = _authenticated(request, tokens)
        if isinstance(seller, web.Response):
            return seller
        body = await _body(request, limit)
        if body is None:
            return _error(
                413, f"the body is larger than {limit} bytes (RETURNDESK_API_MAX_BODY_BYTES)"
            )
        try:
            text = body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            return _error(400, f"the body is not UTF-8: {error.reason} at byte {error.start}")
        found = json_orders(text)
        if isinstance(found, ImportProblem):
            return _error(400, found.message)
        rows = list(found)
        others = [
            position
            for position, raw in rows
            if isinstance(raw, dict)
            and isinstance(raw.get("seller"), str)
            and raw["seller"].strip() != seller
        ]
        if others:
            log.warning(
                "push from %s for %s refused: orders of another seller", request.remote, seller
            )
            return _error(
                403,
                f"this token writes only the orders of seller {seller!r}; "
                f"{', '.join(others)} {'names' if len(others) == 1 else 'name'} another seller",
            )
        report = await _import(app, rows, seller)
        log.info(
            "push for %s: %s created, %s updated, %s unchanged, %s refused",
            seller,
            report.created,
            report.updated,
            report.unchanged,
            len(report.problems),
        )
        return web.json_response(_answer(report))

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(described)

    def add(web_app: web.Application) -> None:
        web_app.router.add_post(ORDERS, push)
        web_app.router.add_get(OPENAPI, openapi)

    return add


def _authenticated(request: web.Request, tokens: SellerTokens) -> str | web.Response:
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _error(401, "send the seller's token: Authorization: Bearer <token>", CHALLENGE)
    seller = tokens.seller_for(given.strip())
    if seller is None:
        log.warning("push from %s with a wrong token", request.remote)
        return _error(401, "the token is not a seller's", f'{CHALLENGE}, error="invalid_token"')
    return seller


async def _body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None if it is larger than `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _import(app: App, rows: list[Any], seller: str) -> ImportReport:
    """The rows imported in one transaction; tried again from the start if PostgreSQL rolled it
    back for a deadlock (docs/locking.md), which the import's turn-taking leaves only to a path
    outside the lock order."""
    for attempt in range(1, CONFLICT_TRIES + 1):
        try:
            async with app.db.unit() as tx:
                return await import_rows(
                    tx,
                    iter(rows),
                    shop=app.shop,
                    now=app.clock.now(),
                    keys=app.claim_keys,
                    sellers={seller},
                )
        except DBAPIError as error:
            code = getattr(error.orig, "sqlstate", None)
            if code not in CONFLICTS or attempt == CONFLICT_TRIES:
                raise
            log.warning(
                "push for %s met %s (try %s); trying it again", seller, CONFLICTS[code], attempt
            )
            await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE * attempt))  # noqa: S311
    raise AssertionError("unreachable")


def _answer(report: ImportReport) -> dict[str, Any]:
    orders = []
    for outcome in report.outcomes:
        order: dict[str, Any] = {"position": outcome.position, "result": outcome.result}
        if outcome.marketplace is not None:
            order["marketplace"] = outcome.marketplace
        if outcome.number is not None:
            order["number"] = outcome.number
        if outcome.problem is not None:
            order["error"] = outcome.problem
        orders.append(order)
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "refused": len(report.problems),
        "orders": orders,
    }


def _error(status: int, message: str, challenge: str | None = None) -> web.Response:
    headers = {"WWW-Authenticate": challenge} if challenge else None
    return web.json_response({"error": message}, status=status, headers=headers)
