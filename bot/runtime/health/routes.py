"""The three routes, added to whichever aiohttp application serves them."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.runtime.health import gauges
from bot.runtime.health.readiness import Readiness
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)


def add_routes(app: web.Application, readiness: Readiness, metrics: Metrics) -> None:
    """GET /healthz, /readyz and /metrics on `app`."""
    collector = gauges.DatabaseCollector()
    metrics.registry.register(collector)

    async def healthz(_: web.Request) -> web.Response:
        # Answering at all is the check: the process and its event loop are alive.
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness.checks()
        ready = all(check.ok for check in checks)
        body = {
            "ready": ready,
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
        }
        return web.json_response(body, status=200 if ready else 503)

    async def scrape(_: web.Request) -> web.Response:
        try:
            async with readiness.db.reading() as tx:
                collector.last = await gauges.snapshot(tx, readiness.clock.now())
        except Exception as error:
            collector.last = None
            log.warning("/metrics: the database did not answer (%s)", type(error).__name__)
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)
