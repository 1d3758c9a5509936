"""/healthz, /readyz and /metrics: what a load balancer and Prometheus ask a running bot
(docs/operations.md#health). `add_routes` puts them on any aiohttp application (the webhook's,
or the server of bot/runtime/http_server.py while polling)."""

from bot.runtime.health.readiness import Readiness
from bot.runtime.health.routes import add_routes

__all__ = ["Readiness", "add_routes"]
