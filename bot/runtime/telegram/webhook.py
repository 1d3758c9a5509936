"""The webhook endpoint: Telegram's secret header is required, and the answer waits until the
update is stored, so Telegram delivers it again if the process dies first.

Whatever is not an update Telegram could have sent gets 400, so that its sender does not try it
again, and the same 400 on both frameworks: python-telegram-bot checks almost nothing of an
update and aiogram coerces ("7" is an update id to it), so the fields the bot reads are checked
here, before either framework is trusted with them.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web

from bot.runtime.telegram.adapter import MessageParts, TelegramAdapter
from bot.runtime.telegram.runner import TelegramRunner
from bot.storage.integers import is_bigint

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
            data, update = parse_update(runner.adapter, await request.text())
        except ValueError as error:
            # Answering 400 tells the sender not to try it again.
            log.info("webhook call from %s is not an update: %s", request.remote, error)
            return web.Response(status=400, text="Bad Request")
        await runner.handle(update, data)
        return web.Response(status=200, text="OK")

    app = web.Application()
    app.router.add_post(path, receive)
    return app


def parse_update(adapter: TelegramAdapter[Any], body: str) -> tuple[dict[str, Any], Any]:
    """A webhook's body as Telegram sent it, and the framework's update for it; ValueError if
    it is not one."""
    try:
        data = json.loads(body)
    except RecursionError:
        # json.loads recurses once per level of nesting: 50,000 "[" are not an update.
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"an update is a JSON object, not {type(data).__name__}")
    if not is_bigint(data.get("update_id")):
        raise ValueError("update_id is not an integer")
    try:
        update = adapter.parse_update(data)
        parts = adapter.read(update)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except (AttributeError, TypeError) as error:
        raise ValueError(f"not a Telegram update: {error!r}") from error
    if parts is not None:
        _check(parts)
    return data, update


def _check(parts: MessageParts) -> None:
    """The fields the bot reads have the types the Bot API gives them, and its numbers fit the
    columns they are stored in."""
    ids = [parts.update_id, parts.chat_id, parts.user_id]
    if parts.thread_id is not None:
        ids.append(parts.thread_id)
    if not all(map(is_bigint, ids)):
        raise ValueError("an id is not an integer")
    texts = (parts.user_name, parts.language_code, parts.text, parts.caption, parts.payload)
    if any(text is not None and not isinstance(text, str) for text in (*texts, parts.callback_id)):
        raise ValueError("a text is not a string")
