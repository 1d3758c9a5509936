"""Settings come from the environment and .env, and .env.example documents every one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from bot.config import settings
from bot.storage.database import DatabaseURLError, usable_url

EXAMPLE = Path(__file__).parent.parent / ".env.example"
# Read outside pydantic-settings: by the renderer and by the tests.
OTHER = {"RETURNDESK_TEMPLATES", "RETURNDESK_TEST_POSTGRES_URL"}


def setting_names() -> set[str]:
    names = set()
    for value in vars(settings).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseSettings)
            and value is not BaseSettings
        ):
            prefix = value.model_config.get("env_prefix", "")
            names |= {f"{prefix}{field}".upper() for field in value.model_fields}
    return names


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    documented = set(re.findall(r"^(RETURNDESK_[A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    assert documented == setting_names() | OTHER


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETURNDESK_TELEGRAM_TOKEN", "123:hunter2")
    monkeypatch.setenv("RETURNDESK_SENDER_GLOBAL_PER_SECOND", "12.5")
    telegram = settings.TelegramSettings()
    assert telegram.token is not None and telegram.token.get_secret_value() == "123:hunter2"
    assert "hunter2" not in repr(telegram)  # a SecretStr never prints
    assert settings.SenderSettings().global_per_second == 12.5


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RETURNDESK_DATABASE_URL=sqlite+aiosqlite:///elsewhere.db\n")
    assert settings.DatabaseSettings().url == "sqlite+aiosqlite:///elsewhere.db"


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgres://shop@db.example/returns", "postgresql+asyncpg://shop@db.example/returns"),
        ("postgresql://shop@db.example/returns", "postgresql+asyncpg://shop@db.example/returns"),
        ("sqlite:///returndesk.db", "sqlite+aiosqlite:///returndesk.db"),
        ("sqlite+aiosqlite:///returndesk.db", "sqlite+aiosqlite:///returndesk.db"),
    ],
)
def test_a_database_url_as_users_write_it_gets_its_async_driver(written: str, used: str) -> None:
    assert usable_url(written).render_as_string() == used


@pytest.mark.parametrize("url", ["returndesk.db", "mysql://shop@db/returns", "sqlite+pysqlite://"])
def test_a_database_url_returndesk_cannot_use_says_what_to_write(url: str) -> None:
    with pytest.raises(
        DatabaseURLError, match=re.escape("use sqlite+aiosqlite:///returndesk.db or")
    ):
        usable_url(url)
