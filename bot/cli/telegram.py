"""returndesk run: the bot on Telegram."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit, urlunsplit

import typer

from bot.cli import logs
from bot.cli.common import ConfigOption, DatabaseOption, errors, open_app, run
from bot.config.settings import (
    LimitsSettings,
    SenderSettings,
    SweeperSettings,
    TelegramSettings,
    UpdateSettings,
    read,
)
from bot.runtime import heap
from bot.runtime.telegram.service import (
    SetupError,
    TelegramService,
    check_media_dir,
    make_adapter,
)

TransportOption = Annotated[
    str,
    typer.Option("--transport", "-t", help="aiogram (default) or ptb (python-telegram-bot)."),
]


def run_bot(
    transport: TransportOption = "aiogram",
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the bot on Telegram: long polling, or a webhook when RETURNDESK_TELEGRAM_WEBHOOK_URL
    is set. Stops cleanly on Ctrl-C or SIGTERM."""
    logs.for_the_bot()
    try:
        run(_run(transport, config, database_url))
    except SetupError as error:
        errors.print(f"[bold red]Cannot start:[/] {error}", markup=True)
        raise typer.Exit(2) from error


async def _run(transport: str, config: Path | None, database_url: str | None) -> None:
    settings = read(TelegramSettings)
    sending, sweeping = read(SenderSettings), read(SweeperSettings)  # all checked before start
    updates, limits = read(UpdateSettings), read(LimitsSettings)
    logs.hide(
        secret.get_secret_value()
        for secret in (settings.token, settings.webhook_secret)
        if secret is not None
    )
    for url in (settings.api_url, limits.redis_url and limits.redis_url.get_secret_value()):
        # A proxy's in front of the Bot API; Redis's, for the shared limits.
        if url and (password := urlsplit(url).password):
            logs.hide([password, unquote(password)])
    adapter = make_adapter(transport, settings)  # checks the token before anything else
    check_media_dir(settings.media_dir)
    app = await open_app(database_url, config)
    try:
        service = TelegramService(
            app,
            adapter,
            settings,
            sending,
            sweep_every=sweeping.every,
            update_attempts=updates.attempts,
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
