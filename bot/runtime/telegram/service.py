"""`returndesk run`: the bot on Telegram, with polling or a webhook, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.app import App
from bot.config.settings import (
    HealthSettings,
    LimitsSettings,
    RetentionSettings,
    SenderSettings,
    TelegramSettings,
    read,
)
from bot.runtime import health
from bot.runtime.http_server import AddRoutes, Listen, ListenError, add_routes, serving, web_app
from bot.runtime.outbox.budgets import RedisBudget, choose_budget
from bot.runtime.outbox.heartbeat import Beating
from bot.runtime.outbox.limits import Budget, RateLimiter
from bot.runtime.outbox.sender import OutboxSender
from bot.runtime.ozon import OzonSync
from bot.runtime.ozon_desk import run_with_orders
from bot.runtime.sweeper import Sweeper
from bot.runtime.telegram.adapter import TelegramAdapter
from bot.runtime.telegram.commands import register_commands
from bot.runtime.telegram.roles import Role
from bot.runtime.telegram.runner import ATTEMPTS, TelegramRunner
from bot.runtime.telegram.webhook import webhook_app
from bot.services.retention import Retention
from bot.storage.media import MediaStore, MediaUnavailableError

log = logging.getLogger(__name__)
FLUSH_TIMEOUT = 30.0  # seconds to deliver what is owed when stopping
TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")  # the bot's id, then its secret


class SetupError(Exception):
    """Configuration the bot cannot start with; the message says what to change."""


async def check_media(media: MediaStore) -> None:
    """Buyers' photos are kept there: a store the bot cannot write would fail them all."""
    try:
        await media.check()
    except MediaUnavailableError as error:
        raise SetupError(f"the media store ({media.name}) cannot keep photos: {error}") from error


def check_telegram(settings: TelegramSettings) -> str:
    """The token, as the adapter is to use it; SetupError if it cannot be one, or if a webhook
    is set without its secret. Checked before anything else is opened."""
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


def make_adapter(
    transport: str, settings: TelegramSettings, media: MediaStore
) -> TelegramAdapter[Any]:
    token = check_telegram(settings)
    options = {
        "token": token,
        "api_url": settings.api_url,
        "media": media,
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
    # None for a role that never calls Telegram (the sweeper), which then needs no token.
    adapter: TelegramAdapter[Any] | None
    settings: TelegramSettings
    sender_settings: SenderSettings
    # Seconds between sweeps of due promises; None runs no sweeper (tests sweep by hand).
    sweep_every: float | None = 30.0
    # Tries of an update before it is set aside (RETURNDESK_UPDATE_ATTEMPTS).
    update_attempts: int = ATTEMPTS
    # Pulls Ozon sellers' postings every ozon_every minutes (docs/ozon.md); None: no pulls.
    ozon: OzonSync | None = None
    ozon_every: float = 15.0
    # Which parts run in this process (`returndesk run --role`).
    role: Role = Role.ALL
    # HTTP routes: the shop API's, and always /healthz, /readyz and /metrics
    # (docs/operations.md#health). On the webhook's server, or, when polling, on a server of
    # their own at `http` (RETURNDESK_HTTP_HOST/_PORT; None: no such server).
    routes: Sequence[AddRoutes] = ()
    http: Listen | None = None
    health: HealthSettings = field(default_factory=HealthSettings)
    # Where the budget of Telegram's limits is kept (RETURNDESK_LIMITS_*); None: as `auto`.
    limits_settings: LimitsSettings | None = None

    def __post_init__(self) -> None:
        if self.role.calls_telegram:  # the sweeper needs no token (docs/operations.md#roles)
            check_telegram(self.settings)
        if self.role is Role.WEB and not self.settings.webhook_url:
            raise SetupError(
                "--role web takes updates on the webhook: set RETURNDESK_TELEGRAM_WEBHOOK_URL "
                "and _SECRET. Long polling has one consumer per bot (Telegram ends one "
                "getUpdates when another starts): to poll, run one process with --role all"
            )
        # Only a role that sends holds Telegram's limits, kept per bot: the token's id names it.
        self.budget: Budget | None = None
        self.sender: OutboxSender | None = None
        if self.role.sends:
            self.budget = self._budget()
            self.sender = self._sender(self.budget)
        self.runner = (
            TelegramRunner(
                engine=self.app.engine, adapter=self._telegram(), attempts=self.update_attempts
            )
            if self.role.takes_updates
            else None
        )
        self.sweeper = Sweeper(db=self.app.db, clock=self.app.clock, engine=self.app.engine)
        self.sweeper.retain(Retention.of(read(RetentionSettings)), self.app.media)
        if self.sender is not None:  # else another process's sender finds the rows on its next look
            self.app.engine.listeners.append(self.sender.wake)
        self.readiness = health.Readiness(
            db=self.app.db,
            clock=self.app.clock,
            telegram=self.adapter.ping if self.adapter is not None else None,
            outbox_max_age=self.health.outbox_max_age,
            telegram_every=self.health.telegram_every,
        )
        metrics = self.app.engine.metrics
        self.health_routes: AddRoutes = lambda app: health.add_routes(app, self.readiness, metrics)

    def _telegram(self) -> TelegramAdapter[Any]:
        """The adapter, which every role but the sweeper has (checked at start)."""
        assert self.adapter is not None, "a role that calls Telegram has its adapter"
        return self.adapter

    def _budget(self) -> Budget:
        """Where Telegram's limits are kept (RETURNDESK_LIMITS_*), per bot."""
        try:
            return choose_budget(
                self.limits_settings or LimitsSettings.model_construct(),
                self.app.db,
                bot=self._bot_id(),
            )
        except ValueError as error:
            raise SetupError(str(error)) from error

    def _sender(self, budget: Budget) -> OutboxSender:
        limits = self.sender_settings
        return OutboxSender(
            db=self.app.db,
            transport=self._telegram(),
            clock=self.app.clock,
            limiter=RateLimiter(
                per_chat_per_second=limits.per_chat_per_second,
                global_per_second=limits.global_per_second,
                group_per_minute=limits.group_per_minute,
                budget=budget,
            ),
            max_attempts=limits.max_attempts,
            beating=Beating(
                every=limits.heartbeat_every,
                dead_after=limits.presumed_dead_after,
                takeover=limits.takeover,
            ),
            metrics=self.app.engine.metrics,
        )

    def _bot_id(self) -> str:
        """The digits before the token's colon: the bot's id, which is no secret."""
        token = self.settings.token
        return token.get_secret_value().partition(":")[0] if token is not None else "bot"

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then finish the updates in hand and flush the outbox.
        Updates a crash left in the inbox are applied first. Only the role's parts run."""
        role = self.role
        if role.calls_telegram:
            adapter = self._telegram()
            identity = await adapter.start()
            log.info("running as @%s with %s, role %s", identity.username, adapter.name, role)
        else:
            log.info("running as role %s", role)
        if role.takes_updates:
            await register_commands(self._telegram(), self.app.shop, self.app.renderer)
        sending = asyncio.Event()
        sender = asyncio.create_task(self.sender.run(sending)) if self.sender else None
        sweeping = (
            asyncio.create_task(self.sweeper.run(stop, self.sweep_every))
            if role.sweeps and self.sweep_every
            else None
        )
        # Pulling from Ozon is background work like sweeping: the sweeper role does it.
        pulling = (
            asyncio.create_task(run_with_orders(self.ozon, self.app.engine, stop, self.ozon_every))
            if role.sweeps and self.ozon is not None and self.ozon_every > 0
            else None
        )
        try:
            if role.takes_updates:
                await self._take_updates(stop)
            elif self.http is not None:  # a sender's or sweeper's health, for its supervisor
                async with _listening(web_app([self.health_routes]), self.http):
                    await stop.wait()
            else:
                await stop.wait()
        finally:
            stop.set()
            for background in (sweeping, pulling):
                if background is not None:
                    await background
            await self._flush(sender, sending)

    async def _flush(self, sender: asyncio.Task[None] | None, sending: asyncio.Event) -> None:
        """Deliver what is owed (for a while), then let go of every connection."""
        if self.ozon is not None:
            await self.ozon.close()
        if sender is not None:
            sending.set()
            try:
                await asyncio.wait_for(sender, FLUSH_TIMEOUT)
            except TimeoutError:
                log.warning("stopped with messages still owed; they go out at the next start")
        if self.adapter is not None:
            await self.adapter.close()
        if isinstance(self.budget, RedisBudget):
            await self.budget.close()

    async def _take_updates(self, stop: asyncio.Event) -> None:
        assert self.runner is not None, "a role that takes updates has its runner"
        await self.runner.start()
        try:
            if self.settings.webhook_url:
                await self._serve_webhook(self.runner, stop)
            else:
                await self._telegram().delete_webhook()
                await self._poll(self.runner, stop)
        finally:
            await self.runner.finish()

    async def _poll(self, runner: TelegramRunner, stop: asyncio.Event) -> None:
        if self.http is None:
            await runner.poll(stop)
            return
        async with _listening(web_app([self.health_routes, *self.routes]), self.http):
            await runner.poll(stop)

    async def _serve_webhook(self, runner: TelegramRunner, stop: asyncio.Event) -> None:
        settings = self.settings
        assert settings.webhook_url
        assert settings.webhook_secret
        secret = settings.webhook_secret.get_secret_value()
        app = webhook_app(runner, path=settings.webhook_path, secret=secret)
        add_routes(app, [self.health_routes, *self.routes])
        where = Listen(
            settings.webhook_host,
            settings.webhook_port,
            what="the webhook",
            settings="RETURNDESK_TELEGRAM_WEBHOOK_HOST and _PORT",
        )
        # Leaving the block stops accepting requests and waits for those in hand to finish.
        async with _listening(app, where):
            await self._telegram().set_webhook(
                settings.webhook_url.rstrip("/") + settings.webhook_path, secret
            )
            await stop.wait()


@asynccontextmanager
async def _listening(app: web.Application, where: Listen) -> AsyncIterator[int]:
    """`serving`, with an address it cannot listen on said as a SetupError."""
    try:
        async with serving(app, where) as port:
            yield port
    except ListenError as error:
        raise SetupError(str(error)) from error
