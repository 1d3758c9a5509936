"""The webhook endpoint: Telegram's secret header is required, and the answer waits until the
update is stored, so Telegram delivers it again if the process dies first."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from bot.transports.telegram.runner import TelegramRunner

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def webhook_app(runner: TelegramRunner, *, path: str, secret: str) -> web.Application:
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        # Constant time, so the secret cannot be guessed a character at a time.
        if not hmac.compare_digest(given, expected):
            log.warning("webhook call from %s with a wrong or missing secret", request.remote)
            return web.Response(status=401, text="Unauthorized")
        try:
            data: Any = await request.json()
            update = runner.adapter.parse_update(data)
        except ValueError:
            # Not an update at all: answering 400 tells the sender not to try it again.
            return web.Response(status=400, text="Bad Request")
        await runner.handle(update)
        return web.Response(status=200, text="OK")

    app = web.Application()
    app.router.add_post(path, receive)
    return app
