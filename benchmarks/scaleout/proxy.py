"""A round-robin HTTP proxy in a process of its own: each request goes to the next worker in
turn, as a load balancer in front of several webhook workers would send it. With --by-chat an
update goes to the worker its chat's id picks instead (read from the body), so a chat stays on
one worker: a control for what a worker keeps of a chat between updates.

    python -m benchmarks.scaleout.proxy --port 8100 http://127.0.0.1:8101 http://127.0.0.1:8102
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

PASSED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
SESSION = web.AppKey("session", ClientSession)


def chat_of(body: bytes) -> int | None:
    """The chat an update is about, or None if the body does not say."""
    try:
        update = json.loads(body)
        message = update.get("message") or update.get("callback_query", {}).get("message")
        return int(message["chat"]["id"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def proxy_app(backends: Sequence[str], *, by_chat: bool = False) -> web.Application:
    turns = itertools.cycle(backends)
    app = web.Application()

    async def open_session(app: web.Application) -> None:
        app[SESSION] = ClientSession(
            connector=TCPConnector(limit=0), timeout=ClientTimeout(total=120)
        )

    async def close_session(app: web.Application) -> None:
        await app[SESSION].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        chat = chat_of(body) if by_chat else None
        backend = next(turns) if chat is None else backends[chat % len(backends)]
        headers = {
            name: request.headers[name] for name in PASSED_HEADERS if name in request.headers
        }
        async with app[SESSION].post(
            backend + request.path_qs, data=body, headers=headers
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_post("/{path:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--by-chat", action="store_true", help="a chat stays on one worker")
    parser.add_argument("backends", nargs="+")
    options = parser.parse_args()
    web.run_app(
        proxy_app(options.backends, by_chat=options.by_chat),
        host="127.0.0.1",
        port=options.port,
        access_log=None,
        print=None,
        handle_signals=True,
    )


if __name__ == "__main__":
    main()
