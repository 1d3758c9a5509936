"""The small server of /healthz, /readyz and /metrics while polling (a webhook's server has
them already), at RETURNDESK_HTTP_HOST:RETURNDESK_HTTP_PORT."""

from __future__ import annotations

from aiohttp import web

from bot.runtime.health.readiness import Readiness
from bot.runtime.health.routes import add_routes
from bot.telemetry.metrics import Metrics


async def serve(host: str, port: int, readiness: Readiness, metrics: Metrics) -> web.AppRunner:
    """Listening when this returns; `cleanup()` the runner to stop. OSError if the address
    cannot be taken."""
    app = web.Application()
    add_routes(app, readiness, metrics)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner
