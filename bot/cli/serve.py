"""`returndesk serve`: the web server alone, with the shop API (docs/shop-api.md) and /healthz,
/readyz and /metrics (docs/operations.md#health); no Telegram polling, no sender, no sweeper."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer

from bot.cli import logs
from bot.cli.common import ConfigOption, DatabaseOption, errors, open_app, run
from bot.config.settings import ApiSettings, HealthSettings, HttpSettings, read
from bot.runtime import health
from bot.runtime.http_server import Listen, ListenError, serving, web_app
from bot.runtime.shop_api import shop_api


def serve(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Serve the shop API (POST /api/orders, GET /api/openapi.json) at RETURNDESK_HTTP_HOST and
    _PORT, until Ctrl-C or SIGTERM. `returndesk run` serves it too; this is for a process of its
    own."""
    logs.for_the_bot()
    try:
        run(_serve(config, database_url))
    except ListenError as error:
        errors.print(f"[bold red]Cannot start:[/] {error}", markup=True)
        raise typer.Exit(2) from error


async def _serve(config: Path | None, database_url: str | None) -> None:
    http, api, checks = read(HttpSettings), read(ApiSettings), read(HealthSettings)
    if not http.port:
        raise ListenError("RETURNDESK_HTTP_PORT is 0, which turns the server off: set a port")
    logs.hide(token.get_secret_value() for token in api.seller_tokens().values())
    app = await open_app(database_url, config)
    try:
        # Ready when the database is and its outbox moves; this process asks no Telegram.
        readiness = health.Readiness(
            db=app.db,
            clock=app.clock,
            telegram=None,
            outbox_max_age=checks.outbox_max_age,
            telegram_every=checks.telegram_every,
        )
        routes = web_app(
            [
                lambda web: health.add_routes(web, readiness, app.engine.metrics),
                shop_api(app, api),
            ]
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with serving(routes, Listen(http.host, http.port)):
            await stop.wait()
    finally:
        await app.close()
