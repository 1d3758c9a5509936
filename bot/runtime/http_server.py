"""A small aiohttp server for the bot's own HTTP routes (the shop API, and whatever else adds
routes): `returndesk serve` runs only it, `returndesk run` runs it beside polling (with a
webhook, the routes go on the webhook's server instead).

A part that serves HTTP gives an `AddRoutes`, a function that adds its routes to an aiohttp
application; `web_app` makes one application of several, and `serving` listens with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)
AddRoutes = Callable[[web.Application], None]


class ListenError(Exception):
    """The server cannot listen where it was told to; the message names the settings."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int  # 0: a free port the system picks (the tests' way)
    # Said when the address cannot be used: what was to be served, and the settings to change.
    what: str = "HTTP"
    settings: str = "RETURNDESK_HTTP_HOST and _PORT"


def add_routes(app: web.Application, routes: Iterable[AddRoutes]) -> web.Application:
    for add in routes:
        add(app)
    return app


def web_app(routes: Iterable[AddRoutes]) -> web.Application:
    return add_routes(web.Application(), routes)


@asynccontextmanager
async def serving(app: web.Application, where: Listen) -> AsyncIterator[int]:
    """`app` served at `where` until the block ends (then requests in hand are finished);
    gives the port it listens on."""
    runner = web.AppRunner(app, handle_signals=False, logger=request_errors())
    await runner.setup()
    site = web.TCPSite(runner, where.host, where.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise ListenError(
            f"cannot serve {where.what} on {where.host}:{where.port}: {error.strerror or error} "
            f"({where.settings})"
        ) from error
    port = int(runner.addresses[0][1])
    log.info("serving %s on %s:%s", where.what, where.host, port)
    try:
        yield port
    finally:
        await runner.cleanup()


class RequestErrors(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's log of the requests it serves. A request it cannot read (a header over its
    8 KB limit, a malformed line) it answers with a 4xx and logs as an ERROR with a traceback;
    that is the caller's fault, not the bot's, so it is one WARNING line here. The parser's own
    words are left out: they quote the request, which may carry a secret header."""

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
            log.warning(
                "a request aiohttp could not read was refused with %s (%s)",
                error.code,
                type(error).__name__,
            )
            return
        super().exception(msg, *args, **kwargs)


def request_errors() -> RequestErrors:
    return RequestErrors(logging.getLogger("aiohttp.server"))
