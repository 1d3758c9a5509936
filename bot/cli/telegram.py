"""returndesk run: the bot on Telegram."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit, urlunsplit

import typer

from bot.cli import logs
from bot.cli.checks import RoleOption, preflight
from bot.cli.common import ConfigOption, DatabaseOption, errors, open_app, run
from bot.runtime import heap
from bot.runtime.http_server import Listen
from bot.runtime.ozon import OzonSync, ozon_sellers
from bot.runtime.shop_api import shop_api
from bot.runtime.telegram.roles import Role
from bot.runtime.telegram.service import SetupError, TelegramService, check_media, make_adapter

TransportOption = Annotated[
    str,
    typer.Option("--transport", "-t", help="aiogram (default) or ptb (python-telegram-bot)."),
]


def run_bot(
    transport: TransportOption = "aiogram",
    role: RoleOption = Role.ALL,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the bot on Telegram: long polling, or a webhook when RETURNDESK_TELEGRAM_WEBHOOK_URL
    is set. Stops cleanly on Ctrl-C or SIGTERM."""
    logs.for_the_bot()
    try:
        run(_run(transport, role, config, database_url))
    except SetupError as error:
        errors.print(f"[bold red]Cannot start:[/] {error}", markup=True)
        raise typer.Exit(2) from error


async def _run(transport: str, role: Role, config: Path | None, database_url: str | None) -> None:
    # Every setting, the shop file and the templates, as `returndesk config check` checks them.
    checked = preflight(config, role)
    settings, http, pulling, api = checked.telegram, checked.http, checked.ozon, checked.api
    media, limits = checked.media, checked.limits
    logs.hide(
        secret.get_secret_value()
        for secret in (settings.token, settings.webhook_secret, media.s3_secret_access_key)
        if secret is not None and secret.get_secret_value()
    )
    logs.hide(token.get_secret_value() for token in api.seller_tokens().values())
    for url in (settings.api_url, limits.redis_url and limits.redis_url.get_secret_value()):
        # A proxy's in front of the Bot API; Redis's, for the shared limits.
        if url and (password := urlsplit(url).password):
            logs.hide([password, unquote(password)])
    app = await open_app(database_url, config, renderer=checked.renderer)
    try:
        await check_media(app.media)
        # A sweeper never calls Telegram: it runs without an adapter, and without a token.
        adapter = make_adapter(transport, settings, app.media) if role.calls_telegram else None
        ozon = None
        if pulling.sync_every > 0 and ozon_sellers(app.shop):  # their keys: checked above
            ozon = OzonSync(
                db=app.db, clock=app.clock, shop=app.shop, settings=pulling, keys=app.claim_keys
            )
        service = TelegramService(
            app,
            adapter,
            settings,
            checked.sender,
            sweep_every=checked.sweeper.every,
            update_attempts=checked.updates.attempts,
            ozon=ozon,
            ozon_every=pulling.sync_every,
            role=role,
            # The shop API (docs/shop-api.md), health and metrics (docs/operations.md#health):
            # on the webhook's server, or on one of their own.
            routes=[shop_api(app, api)],
            http=Listen(http.host, http.port) if http.port else None,
            health=checked.health,
            limits_settings=limits,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        heap.settle()
        try:
            await service.run(stop)
        except Exception as error:
            if _unauthorized(error):
                raise SetupError(
                    "Telegram refused the token (RETURNDESK_TELEGRAM_TOKEN)"
                ) from error
            if _unreachable(error):
                # The library's words are left out: they may quote a URL, with the token in it.
                raise SetupError(
                    f"cannot reach the Bot API at {without_credentials(settings.api_url)} "
                    f"({type(error).__name__}): "
                    "check the network, or RETURNDESK_TELEGRAM_API_URL"
                ) from error
            if _from_telegram(error):  # its set-up calls: getMe, setMyCommands, setWebhook ...
                said = logs.redacted(str(error))
                raise SetupError(f"Telegram refused to set the bot up: {said}") from error
            raise
    finally:
        await app.close()


def without_credentials(url: str) -> str:
    """The Bot API's address as it may be shown: a user name and password in it (for a proxy
    in front of a local Bot API server) are secrets, as a database's password is."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***:***@" + parts.netloc.rpartition("@")[2]))


def _unauthorized(error: Exception) -> bool:
    return type(error).__name__ in {"TelegramUnauthorizedError", "InvalidToken"}


def _from_telegram(error: Exception) -> bool:
    """An answer of the Bot API's, on either framework (errors while running are handled where
    they happen; one that gets here came from a call at start)."""
    bases = {kind.__name__ for kind in type(error).__mro__}
    return bool(bases & {"TelegramAPIError", "TelegramError"})


def _unreachable(error: Exception) -> bool:
    """A network failure or Telegram's 5xx at start (while running, they are retried). By
    name, not class: PTB's BadRequest is a subclass of its NetworkError."""
    return type(error).__name__ in {
        "TelegramNetworkError",
        "TelegramServerError",
        "NetworkError",
        "TimedOut",
    }
