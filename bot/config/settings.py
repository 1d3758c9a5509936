"""Settings from the environment and `.env`, one class per concern. Every field is documented in
`.env.example`; a test keeps the two in step."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, TypeVar

from dotenv import dotenv_values
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.shop import ozon_key_variable

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


class MediaSettings(BaseSettings):
    """Where buyers' photos are kept (docs/operations.md, "Media"): the local folder
    (RETURNDESK_TELEGRAM_MEDIA_DIR) for one process, the database or an S3-compatible bucket
    for several workers."""

    model_config = _section("MEDIA_")

    backend: Literal["local", "database", "s3"] = "local"
    s3_bucket: str | None = None
    # Unset: AWS itself; MinIO, Ceph, or another provider's address otherwise.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    # Unset: botocore's usual chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a role).
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = "photos/"
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_when_s3(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value or None
        if value is None and info.data.get("backend") == "s3":
            raise ValueError("must be set when RETURNDESK_MEDIA_BACKEND is s3")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint_with_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// on a private network)")
        return value or None


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


class HealthSettings(BaseSettings):
    """What /readyz counts as ready (docs/operations.md#health)."""

    model_config = _section("HEALTH_")

    # The oldest reply still owed may be this many seconds old before the bot is not ready: a
    # sender that stopped delivering (or a Telegram that stopped taking) shows here.
    outbox_max_age: float = Field(300.0, gt=0)
    # Seconds a getMe answer is trusted before /readyz asks Telegram again.
    telegram_every: float = Field(30.0, gt=0)


class LogSettings(BaseSettings):
    """The commands' log (docs/operations.md#logs)."""

    model_config = _section("LOG_")

    # text: one line a record for a person; json: one JSON object a line for a log collector.
    format: Literal["text", "json"] = "text"


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


class RetentionSettings(BaseSettings):
    """How long personal data is kept, per kind, in days (docs/privacy.md); 0 keeps it for
    ever. The sweeper removes texts and photos and masks names past these; amounts, reasons
    and dates stay."""

    model_config = _section("RETENTION_")

    # Message texts in the transcript, and updates set aside (they hold what was typed).
    transcripts_days: int = Field(180, ge=0)
    # Photos sent as evidence: the downloaded copy, Telegram's file ids and the caption.
    photos_days: int = Field(180, ge=0)
    # Who did what in the audit log: the person's id, what they typed, the details.
    audit_days: int = Field(365, ge=0)
    # A closed case's texts (question, comments, notes, tracking numbers) and, once none of
    # their cases is left unmasked, the buyer's name; counted from the case's closing.
    closed_cases_days: int = Field(1095, ge=0)
    # Seconds between retention sweeps (in `returndesk run` and `sweep --loop`), and rows
    # changed per transaction.
    every: float = Field(3600.0, gt=0)
    batch: int = Field(500, ge=1)


class OzonSettings(BaseSettings):
    """The Ozon Seller API connector (docs/ozon.md). Each seller's API key has a variable of its
    own, named for the seller: see `ozon_api_key`."""

    model_config = _section("OZON_")

    # Ozon's own unless set (the tests point it at their fake server).
    api_url: str = "https://api-seller.ozon.ru"
    # Minutes between pulls of every Ozon seller's postings in `returndesk run`; 0: none.
    sync_every: float = Field(15.0, ge=0)
    # How far back the first pull of a seller looks, in days.
    first_sync_days: int = Field(30, ge=1, le=365)
    # How far back a later pull looks for postings whose status changed, in days (Ozon allows
    # at most a year between since and to).
    lookback_days: int = Field(90, ge=1, le=365)
    # Seconds for one call, and tries of a call Ozon asks to back off from.
    timeout: float = Field(30.0, gt=0)
    attempts: int = Field(5, ge=1, le=20)

    @field_validator("api_url")
    @classmethod
    def _api_url_with_scheme(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local test server)")
        return value.rstrip("/")


def ozon_api_key(seller_id: str) -> SecretStr:
    """The seller's Ozon API key: RETURNDESK_OZON_API_KEY_<SELLER> from the environment or
    `.env`, else the file RETURNDESK_OZON_API_KEY_FILE_<SELLER> names (a mounted secret).
    SettingsError names the variables, never a value."""
    variable = ozon_key_variable(seller_id)
    file_variable = variable.replace("_API_KEY_", "_API_KEY_FILE_")
    dotenv = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    key = os.environ.get(variable) or dotenv.get(variable)
    if key and key.strip():
        return SecretStr(key.strip())
    path = os.environ.get(file_variable) or dotenv.get(file_variable)
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            problem = f"{file_variable}: cannot read {path}: {error.strerror}"
            raise SettingsError([problem]) from None
        if key:
            return SecretStr(key)
        raise SettingsError([f"{file_variable}: {path} is empty"])
    missing = f"{variable} (or {file_variable}, a file holding it): the seller's Ozon API key"
    raise SettingsError([f"{missing} is not set"])


class HttpSettings(BaseSettings):
    """The small web server of `returndesk serve`, and of `returndesk run` when it polls: the
    shop API, /healthz, /readyz and /metrics (with a webhook, they are on the webhook's
    server): docs/shop-api.md, docs/operations.md#health."""

    model_config = _section("HTTP_")

    host: str = "127.0.0.1"
    # 0: no server of its own (`returndesk serve` then refuses to start).
    port: int = Field(8080, ge=0, le=65535)


# A bearer token as RFC 6750 writes one (b64token), long enough not to be guessed.
API_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]{32,512}=*")


class ApiSettings(BaseSettings):
    """The shop API: orders pushed over HTTP (docs/shop-api.md)."""

    model_config = _section("API_")

    # Each seller's bearer token, as `seller:token` pairs separated by commas.
    tokens: SecretStr | None = None
    # A folder with one file per seller, named by the seller's id, holding its token (Docker's
    # and Kubernetes' secrets are mounted this way).
    tokens_dir: Path | None = None
    # The largest body POST /api/orders reads, in bytes; a larger one is answered 413.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)

    @field_validator("tokens_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # else Path("") would be the current folder

    def seller_tokens(self) -> dict[str, SecretStr]:
        """Every seller's token, from both places; SettingsError naming what is wrong (never a
        token)."""
        found: dict[str, SecretStr] = {}
        problems: list[str] = []

        def add(seller: str, token: str, where: str) -> None:
            if seller in found:
                problems.append(f"{where}: seller {seller!r} has a second token")
            elif not API_TOKEN.fullmatch(token):
                problems.append(
                    f"{where}: the token of {seller!r} is not 32 to 512 of A-Z, a-z, 0-9 and "
                    "-._~+/ (`openssl rand -hex 32` makes one)"
                )
            else:
                found[seller] = SecretStr(token)

        if self.tokens is not None:
            for pair in filter(
                None, (p.strip() for p in self.tokens.get_secret_value().split(","))
            ):
                seller, colon, token = pair.partition(":")
                if not colon or not seller.strip():
                    problems.append("RETURNDESK_API_TOKENS: write seller:token pairs, by commas")
                    continue
                add(seller.strip(), token.strip(), "RETURNDESK_API_TOKENS")
        if self.tokens_dir is not None:
            where = "RETURNDESK_API_TOKENS_DIR"
            try:
                files = sorted(self.tokens_dir.iterdir())
            except OSError as error:
                problems.append(f"{where}: cannot read {self.tokens_dir}: {error.strerror}")
                files = []
            for file in files:
                # Kubernetes mounts its own ..data links beside the files.
                if file.name.startswith(".") or not file.is_file():
                    continue
                try:
                    token = file.read_text(encoding="utf-8").strip()
                except (OSError, UnicodeDecodeError) as error:
                    problems.append(f"{where}: cannot read {file}: {error}")
                    continue
                add(file.name, token, where)
        seen: dict[str, str] = {}
        for seller, secret in found.items():
            other = seen.setdefault(secret.get_secret_value(), seller)
            if other != seller:
                problems.append(f"RETURNDESK_API_TOKENS: {other!r} and {seller!r} share a token")
        if problems:
            raise SettingsError(problems)
        return found
