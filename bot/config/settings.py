"""Settings from the environment and `.env`, one class per concern. Every field is documented in
`.env.example`; a test keeps the two in step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

S = TypeVar("S", bound=BaseSettings)
# The largest image kept as evidence unless RETURNDESK_TELEGRAM_MAX_PHOTO_BYTES says otherwise; the
# sandbox keeps the same limit.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# What Telegram accepts as a webhook's secret token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(ValueError):
    """Settings that cannot be used; each problem names its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read(kind: type[S]) -> S:
    """One concern's settings from the environment and `.env`, or SettingsError. A problem is
    told by the variable's name and what is wrong, never with the value (it may be a secret)."""
    try:
        return kind()
    except ValidationError as error:
        prefix = str(kind.model_config.get("env_prefix", ""))
        problems = [
            f"{prefix}{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise SettingsError(problems) from None


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=f"RETURNDESK_{prefix}",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )


class DatabaseSettings(BaseSettings):
    model_config = _section("DATABASE_")

    # SQLite needs nothing installed; PostgreSQL (postgresql+asyncpg://...) runs several processes.
    url: str = "sqlite+aiosqlite:///returndesk.db"
    echo: bool = False


class ShopSettings(BaseSettings):
    model_config = _section("")

    # The shop file: sellers, their deciders, support members and policies. Unset: the demo shop.
    config: Path | None = None


class TelegramSettings(BaseSettings):
    model_config = _section("TELEGRAM_")

    token: SecretStr | None = None
    # A local Bot API server, or the tests' one; Telegram's own when unset.
    api_url: str = "https://api.telegram.org"
    # Set to the public https URL Telegram should post updates to; unset means long polling.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/telegram/webhook"
    # Largest photo the bot downloads as evidence, in bytes.
    max_photo_bytes: int = MAX_PHOTO_BYTES
    media_dir: Path = Path("media")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_telegram_accepts(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # set but empty is unset
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("use 1 to 256 of A-Z, a-z, 0-9, _ and - (Telegram takes no other)")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url_with_scheme(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local Bot API server)")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path_from_the_root(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /, as /telegram/webhook does")
        return value


class SenderSettings(BaseSettings):
    """Telegram's published limits; the benchmark lifts them to measure the engine alone."""

    model_config = _section("SENDER_")

    per_chat_per_second: float = Field(1.0, gt=0)
    global_per_second: float = Field(30.0, gt=0)
    group_per_minute: float = Field(20.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    # A running sender says it is alive this often (seconds); one silent for
    # presumed_dead_after seconds is presumed dead and its rows are taken over
    # (docs/sender.md). takeover off: a dead sender's rows wait for their two-minute lease.
    heartbeat_every: float = Field(1.0, gt=0)
    presumed_dead_after: float = Field(6.0, gt=0)
    takeover: bool = True

    @field_validator("presumed_dead_after")
    @classmethod
    def _dead_after_several_beats(cls, value: float, info: ValidationInfo) -> float:
        if value < 4 * info.data.get("heartbeat_every", 0.0):
            raise ValueError(
                "must be at least four times RETURNDESK_SENDER_HEARTBEAT_EVERY: a live sender "
                "must not be presumed dead for one late heartbeat"
            )
        return value


class LimitsSettings(BaseSettings):
    """Where the budget of Telegram's limits is kept, which every sender of the bot shares
    (docs/sender.md#limits)."""

    model_config = _section("LIMITS_")

    # auto: Redis when a URL is set, else PostgreSQL when the database is, else the process.
    store: Literal["auto", "process", "postgresql", "redis"] = "auto"
    # redis://[:password@]host:port/db; a secret, since it may carry the password.
    redis_url: SecretStr | None = None

    @model_validator(mode="after")
    def _redis_has_a_url(self) -> LimitsSettings:
        if self.store == "redis" and self.redis_url is None:
            raise ValueError("RETURNDESK_LIMITS_STORE=redis needs RETURNDESK_LIMITS_REDIS_URL")
        return self


class SweeperSettings(BaseSettings):
    model_config = _section("SWEEPER_")

    # Seconds between sweeps for due and nearly-due promises (in `returndesk run` and `sweep`).
    every: float = Field(30.0, gt=0)


class UpdateSettings(BaseSettings):
    """How hard the bot tries an incoming update before setting it aside
    (docs/poison-updates.md)."""

    model_config = _section("UPDATE_")

    # Tries of an update that fails while the database answers (1 s apart, doubling), after
    # which it is set aside for `returndesk inbox` and its chat goes on.
    attempts: int = Field(5, ge=1)


class UnderstandingSettings(BaseSettings):
    """Who reads what buyers type (docs/understanding.md)."""

    model_config = _section("")

    # "lexicon": the offline default. Else "package.module:factory", a callable taking no
    # arguments that returns an Understander, such as a client of a hosted language model.
    understander: str = Field("lexicon", pattern=r"^(lexicon|[\w.]+:\w+)$")


class LinkSettings(BaseSettings):
    """Signed order links and claiming an order by its number (docs/claiming.md)."""

    model_config = _section("LINK_")

    # Signs the links printed on parcel cards and hashes the phone digits and postal codes an
    # import carries. Unset: no links, and orders without a Telegram id cannot be claimed.
    secret: SecretStr | None = None
    # The bot's @username for t.me links; unset, `returndesk links` asks Telegram (getMe).
    bot_username: str | None = None
    # A font for the printed cards that draws Chinese and Cyrillic; unset: the packaged one.
    font: Path | None = None

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # set but empty is unset
        if len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (`openssl rand -hex 32`)")
        return value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError("is not a Telegram bot username such as ReturnDeskBot")
        return value
