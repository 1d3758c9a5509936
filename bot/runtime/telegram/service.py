"""`returndesk run`: the bot on Telegram, with polling or a webhook, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from bot.config.settings import HealthSettings, HttpSettings, SenderSettings, TelegramSettings
from bot.runtime import health
from bot.runtime.outbox.heartbeat import Beating
from bot.runtime.outbox.limits import RateLimiter
from bot.runtime.outbox.sender import OutboxSender
from bot.runtime.sweeper import Sweeper
from bot.runtime.telegram.adapter import TelegramAdapter
from bot.runtime.telegram.commands import register_commands
from bot.runtime.telegram.runner import ATTEMPTS, TelegramRunner
from bot.runtime.telegram.webhook import request_errors, webhook_app

log = logging.getLogger(__name__)
FLUSH_TIMEOUT = 30.0  # seconds to deliver what is owed when stopping
TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")  # the bot's id, then its secret


class SetupError(Exception):
    """Configuration the bot cannot start with; the message says what to change."""


def check_media_dir(folder: Path) -> None:
    """Buyers' photos are downloaded here: a folder the bot cannot write would fail them all."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise SetupError(
            f"RETURNDESK_TELEGRAM_MEDIA_DIR ({folder}) cannot hold the buyers' photos: "
            f"{error.strerror or error}"
        ) from error


def check_telegram(settings: TelegramSettings) -> str:
    """The token, as the adapter is to use it; SetupError if it cannot be one, or if a webhook
    is set without its secret."""
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise SetupError(
            "RETURNDESK_TELEGRAM_TOKEN is not set: get a token from @BotFather and put it in "
            "the environment or in .env (see .env.example)"
        )
    token = settings.token.get_secret_value().strip()
    # aiogram refuses a malformed token in its constructor, python-telegram-bot only when
    # Telegram answers 404; checked here, both say the same line (and never the value).
    if not TOKEN.fullmatch(token):
        raise SetupError(
            "RETURNDESK_TELEGRAM_TOKEN is not a bot token: one is digits, a colon, then "
            "letters, digits, _ and -, as @BotFather gives it"
        )
    if settings.webhook_url and not settings.webhook_secret:
        raise SetupError(
            "RETURNDESK_TELEGRAM_WEBHOOK_SECRET must be set when "
            "RETURNDESK_TELEGRAM_WEBHOOK_URL is: without it anyone could post updates"
        )
    return token


def make_adapter(transport: str, settings: TelegramSettings) -> TelegramAdapter[Any]:
    token = check_telegram(settings)
    options = {
        "token": token,
        "api_url": settings.api_url,
        "media_dir": settings.media_dir,
        "max_photo_bytes": settings.max_photo_bytes,
    }
    if transport == "aiogram":
        from bot.runtime.telegram.aiogram_adapter import AiogramAdapter

        return AiogramAdapter(**options)  # type: ignore[arg-type]
    if transport == "ptb":
        from bot.runtime.telegram.ptb_adapter import PtbAdapter

        return PtbAdapter(**options)  # type: ignore[arg-type]
    raise SetupError(f"unknown transport {transport!r}: use aiogram or ptb")


@dataclass
class TelegramService:
    app: App
    adapter: TelegramAdapter[Any]
    settings: TelegramSettings
    sender_settings: SenderSettings
    # Seconds between sweeps of due promises; None runs no sweeper (tests sweep by hand).
    sweep_every: float | None = 30.0
    # Tries of an update before it is set aside (RETURNDESK_UPDATE_ATTEMPTS).
    update_attempts: int = ATTEMPTS
    # /healthz, /readyz and /metrics: on the webhook's server, and while polling on a server of
    # their own at http's host and port (None, or port 0: none).
    http: HttpSettings | None = None
    health: HealthSettings = field(default_factory=HealthSettings)

    def __post_init__(self) -> None:
        check_telegram(self.settings)
        limits = self.sender_settings
        self.sender = OutboxSender(
            db=self.app.db,
            transport=self.adapter,
            clock=self.app.clock,
            limiter=RateLimiter(
                per_chat_per_second=limits.per_chat_per_second,
                global_per_second=limits.global_per_second,
                group_per_minute=limits.group_per_minute,
            ),
            max_attempts=limits.max_attempts,
            beating=Beating(
                every=limits.heartbeat_every,
                dead_after=limits.presumed_dead_after,
                takeover=limits.takeover,
            ),
            metrics=self.app.engine.metrics,
        )
        self.runner = TelegramRunner(
            engine=self.app.engine, adapter=self.adapter, attempts=self.update_attempts
        )
        self.sweeper = Sweeper(db=self.app.db, clock=self.app.clock, engine=self.app.engine)
        self.app.engine.listeners.append(self.sender.wake)
        self.readiness = health.Readiness(
            db=self.app.db,
            clock=self.app.clock,
            telegram=self.adapter.ping,
            outbox_max_age=self.health.outbox_max_age,
            telegram_every=self.health.telegram_every,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then finish the updates in hand and flush the outbox.
        Updates a crash left in the inbox are applied first."""
        identity = await self.adapter.start()
        log.info("running as @%s with %s", identity.username, self.adapter.name)
        await register_commands(self.adapter, self.app.shop, self.app.renderer)
        sending = asyncio.Event()
        sender = asyncio.create_task(self.sender.run(sending))
        sweeping = (
            asyncio.create_task(self.sweeper.run(stop, self.sweep_every))
            if self.sweep_every
            else None
        )
        await self.runner.start()
        try:
            if self.settings.webhook_url:
                await self._serve_webhook(stop)
            else:
                await self.adapter.delete_webhook()
                async with self._health_server():
                    await self.runner.poll(stop)
        finally:
            if sweeping is not None:
                stop.set()
                await sweeping
            await self.runner.finish()
            sending.set()
            try:
                await asyncio.wait_for(sender, FLUSH_TIMEOUT)
            except TimeoutError:
                log.warning("stopped with messages still owed; they go out at the next start")
            await self.adapter.close()

    async def _serve_webhook(self, stop: asyncio.Event) -> None:
        settings = self.settings
        assert settings.webhook_url
        assert settings.webhook_secret
        secret = settings.webhook_secret.get_secret_value()
        web_app = webhook_app(self.runner, path=settings.webhook_path, secret=secret)
        health.add_routes(web_app, self.readiness, self.app.engine.metrics)
        site_runner = web.AppRunner(web_app, handle_signals=False, logger=request_errors())
        await site_runner.setup()
        site = web.TCPSite(site_runner, settings.webhook_host, settings.webhook_port)
        try:
            await site.start()
        except OSError as error:
            await site_runner.cleanup()
            raise SetupError(
                f"cannot serve the webhook on {settings.webhook_host}:{settings.webhook_port}: "
                f"{error.strerror or error} (RETURNDESK_TELEGRAM_WEBHOOK_HOST and _PORT)"
            ) from error
        try:
            await self.adapter.set_webhook(
                settings.webhook_url.rstrip("/") + settings.webhook_path, secret
            )
            await stop.wait()
        finally:
            # Stops accepting requests and waits for those in hand to finish.
            await site_runner.cleanup()

    # -- health and metrics while polling (bot/runtime/health/) ---------------------------------
    @contextlib.asynccontextmanager
    async def _health_server(self) -> AsyncIterator[None]:
        if self.http is None or not self.http.port:
            yield
            return
        host, port = self.http.host, self.http.port
        try:
            server = await health.serve(host, port, self.readiness, self.app.engine.metrics)
        except OSError as error:
            raise SetupError(
                f"cannot serve /healthz, /readyz and /metrics on {host}:{port}: "
                f"{error.strerror or error} (RETURNDESK_HTTP_HOST and _PORT; port 0 turns it off)"
            ) from error
        log.info("health and metrics on http://%s:%s", host, port)
        try:
            yield
        finally:
            await server.cleanup()
