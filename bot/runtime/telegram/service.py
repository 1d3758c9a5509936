"""`returndesk run`: the bot on Telegram, with polling or a webhook, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from bot.config.settings import LimitsSettings, SenderSettings, TelegramSettings
from bot.runtime.outbox.budgets import RedisBudget, choose_budget
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


def make_adapter(transport: str, settings: TelegramSettings) -> TelegramAdapter[Any]:
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
    # Where the budget of Telegram's limits is kept (RETURNDESK_LIMITS_*); None: as `auto`.
    limits_settings: LimitsSettings | None = None

    def __post_init__(self) -> None:
        if self.settings.webhook_url and not self.settings.webhook_secret:
            raise SetupError(
                "RETURNDESK_TELEGRAM_WEBHOOK_SECRET must be set when "
                "RETURNDESK_TELEGRAM_WEBHOOK_URL is: without it anyone could post updates"
            )
        limits = self.sender_settings
        try:
            self.budget = choose_budget(
                self.limits_settings or LimitsSettings.model_construct(),
                self.app.db,
                bot=self._bot_id(),
            )
        except ValueError as error:
            raise SetupError(str(error)) from error
        self.sender = OutboxSender(
            db=self.app.db,
            transport=self.adapter,
            clock=self.app.clock,
            limiter=RateLimiter(
                per_chat_per_second=limits.per_chat_per_second,
                global_per_second=limits.global_per_second,
                group_per_minute=limits.group_per_minute,
                budget=self.budget,
            ),
            max_attempts=limits.max_attempts,
            beating=Beating(
                every=limits.heartbeat_every,
                dead_after=limits.presumed_dead_after,
                takeover=limits.takeover,
            ),
        )
        self.runner = TelegramRunner(
            engine=self.app.engine, adapter=self.adapter, attempts=self.update_attempts
        )
        self.sweeper = Sweeper(db=self.app.db, clock=self.app.clock, engine=self.app.engine)
        self.app.engine.listeners.append(self.sender.wake)

    def _bot_id(self) -> str:
        """The digits before the token's colon: the bot's id, which is no secret."""
        token = self.settings.token
        return token.get_secret_value().partition(":")[0] if token is not None else "bot"

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
            if isinstance(self.budget, RedisBudget):
                await self.budget.close()

    async def _serve_webhook(self, stop: asyncio.Event) -> None:
        settings = self.settings
        assert settings.webhook_url
        assert settings.webhook_secret
        secret = settings.webhook_secret.get_secret_value()
        web_app = webhook_app(self.runner, path=settings.webhook_path, secret=secret)
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
