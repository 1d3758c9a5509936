"""Settings from the environment and `.env`, one class per concern. Every field is documented in
`.env.example`; a test keeps the two in step."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    max_photo_bytes: int = 10 * 1024 * 1024
    media_dir: Path = Path("media")


class SenderSettings(BaseSettings):
    """Telegram's published limits; the benchmark lifts them to measure the engine alone."""

    model_config = _section("SENDER_")

    per_chat_per_second: float = Field(1.0, gt=0)
    global_per_second: float = Field(30.0, gt=0)
    group_per_minute: float = Field(20.0, gt=0)
    max_attempts: int = Field(8, ge=1)


class SweeperSettings(BaseSettings):
    model_config = _section("SWEEPER_")

    # Seconds between sweeps for due and nearly-due promises (in `returndesk run` and `sweep`).
    every: float = Field(30.0, gt=0)
