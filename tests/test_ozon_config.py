"""`[sellers.ozon]` in the shop file, and the seller's API key from the environment or a file,
never from the TOML (docs/ozon.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import SettingsError, ozon_api_key
from bot.config.shop import ConfigError, load_shop
from tests.test_cli import returndesk
from tests.test_ozon_sync import SHOP

KEY = "0f0e0d0c-aaaa-bbbb-cccc-000000000001"


def shop_file(tmp_path: Path, text: str = SHOP) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shop_file_names_the_ozon_account(tmp_path: Path) -> None:
    shop = load_shop(shop_file(tmp_path))
    ozon = shop.seller("acme").ozon
    assert ozon is not None
    assert (ozon.client_id, ozon.sync_orders) == ("123456", True)
    assert shop.seller("plain").ozon is None


@pytest.mark.parametrize("name", ["api_key", "Api-Key", "key"])
def test_a_key_in_the_shop_file_is_refused_with_where_it_belongs(tmp_path: Path, name: str) -> None:
    text = SHOP.replace('client_id = "123456"', f'client_id = "123456"\n"{name}" = "{KEY}"')
    with pytest.raises(ConfigError) as refused:
        load_shop(shop_file(tmp_path, text))
    said = str(refused.value)
    assert "never goes in the shop file" in said
    assert "RETURNDESK_OZON_API_KEY_ACME" in said
    assert "RETURNDESK_OZON_API_KEY_FILE_ACME" in said
    assert KEY not in said


def test_a_client_id_that_is_not_ozons_is_refused(tmp_path: Path) -> None:
    text = SHOP.replace('client_id = "123456"', 'client_id = "abc"')
    with pytest.raises(ConfigError, match=r"sellers\.0\.ozon\.client_id"):
        load_shop(shop_file(tmp_path, text))


def test_the_key_comes_from_the_environment_then_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETURNDESK_OZON_API_KEY_ACME_SHOP", raising=False)
    monkeypatch.delenv("RETURNDESK_OZON_API_KEY_FILE_ACME_SHOP", raising=False)
    with pytest.raises(SettingsError) as unset:
        ozon_api_key("acme-shop")
    assert "RETURNDESK_OZON_API_KEY_ACME_SHOP (or RETURNDESK_OZON_API_KEY_FILE_ACME_SHOP" in str(
        unset.value
    )
    secret = tmp_path / "ozon.key"
    secret.write_text(f"{KEY}\n", encoding="utf-8")
    monkeypatch.setenv("RETURNDESK_OZON_API_KEY_FILE_ACME_SHOP", str(secret))
    assert ozon_api_key("acme-shop").get_secret_value() == KEY
    monkeypatch.setenv("RETURNDESK_OZON_API_KEY_ACME_SHOP", "from-the-environment")
    assert ozon_api_key("acme-shop").get_secret_value() == "from-the-environment"
    monkeypatch.delenv("RETURNDESK_OZON_API_KEY_ACME_SHOP")
    secret.unlink()
    with pytest.raises(SettingsError, match="cannot read"):
        ozon_api_key("acme-shop")


def test_the_key_may_sit_in_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETURNDESK_OZON_API_KEY_ACME", raising=False)
    (tmp_path / ".env").write_text(f"RETURNDESK_OZON_API_KEY_ACME={KEY}\n", encoding="utf-8")
    assert ozon_api_key("acme").get_secret_value() == KEY


def test_run_will_not_start_without_every_ozon_sellers_key(tmp_path: Path) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "123456:" + "A" * 35,
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "RETURNDESK_OZON_API_KEY_ACME": "",
    }
    result = returndesk("run", "--config", str(shop_file(tmp_path)), cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "RETURNDESK_OZON_API_KEY_ACME" in result.stderr
    assert "Traceback" not in result.stderr
