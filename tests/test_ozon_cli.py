"""`returndesk ozon sync` and `returndesk ozon check` against the fake Ozon server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.storage.database import Database
from bot.storage.models import Order
from bot.testing.ozon import FakeOzon, FakeRole
from tests.ozon_samples import API_KEY, CLIENT_ID, posting, seller
from tests.test_cli import returndesk_async
from tests.test_ozon_sync import SHOP


def setup(tmp_path: Path, server: FakeOzon, shop: str = SHOP) -> tuple[list[str], dict[str, str]]:
    path = tmp_path / "shop.toml"
    path.write_text(shop, encoding="utf-8")
    env = {
        "RETURNDESK_OZON_API_URL": server.url,
        "RETURNDESK_OZON_API_KEY_ACME": API_KEY,
        "RETURNDESK_OZON_ATTEMPTS": "1",
    }
    return ["--config", str(path)], env


async def test_sync_pulls_orders_once_and_names_what_it_set_aside(
    tmp_path: Path, fake_ozon: FakeOzon
) -> None:
    seller(fake_ozon).postings = [posting(1), posting(2), posting(3, status="teleported")]
    config, env = setup(tmp_path, fake_ozon)
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    first = await returndesk_async(
        "ozon", "sync", *config, "--database-url", database, cwd=tmp_path, env=env
    )
    assert first.returncode == 0, first.stderr
    assert "acme: 2 new, 0 changed, 0 unchanged, 1 set aside" in first.stdout
    assert "set aside 0132112277-0003-1: status 'teleported' is not one Ozon documents" in (
        first.stdout
    )
    again = await returndesk_async(
        "ozon",
        "sync",
        *config,
        "--database-url",
        database,
        "--seller",
        "acme",
        cwd=tmp_path,
        env=env,
    )
    assert again.returncode == 0, again.stderr
    assert "acme: 0 new" in again.stdout
    db = Database(database)
    try:
        async with db.reading() as tx:
            numbers = list(await tx.session.scalars(select(Order.number).order_by(Order.number)))
    finally:
        await db.dispose()
    assert numbers == ["0132112277-0001-1", "0132112277-0002-1"]


async def test_sync_says_why_it_stopped_and_fails(tmp_path: Path, fake_ozon: FakeOzon) -> None:
    fake_ozon.seller(CLIENT_ID, "some other key")
    config, env = setup(tmp_path, fake_ozon)
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = await returndesk_async(
        "ozon", "sync", *config, "--database-url", database, cwd=tmp_path, env=env
    )
    assert result.returncode == 1
    assert "Invalid Api-Key" in result.stderr
    refused = await returndesk_async(
        "ozon",
        "sync",
        *config,
        "--database-url",
        database,
        "--seller",
        "plain",
        cwd=tmp_path,
        env=env,
    )
    assert refused.returncode == 2
    assert "has no [sellers.ozon]" in refused.stderr


async def test_check_lists_the_keys_roles_and_what_is_missing(
    tmp_path: Path, fake_ozon: FakeOzon
) -> None:
    found = seller(fake_ozon)
    config, env = setup(tmp_path, fake_ozon)
    full = await returndesk_async("ozon", "check", *config, cwd=tmp_path, env=env)
    assert full.returncode == 0, full.stderr
    assert "Admin" in full.stdout
    assert "ok rFBS returns" in full.stdout
    assert "missing" not in full.stdout

    found.roles = [FakeRole("Postings", ["/v4/posting/fbs/list", "/v1/roles"])]
    partial = await returndesk_async("ozon", "check", *config, cwd=tmp_path, env=env)
    assert partial.returncode == 1
    assert "ok orders (FBS/rFBS postings)" in partial.stdout
    assert (
        "missing for rFBS returns: /v2/returns/rfbs/list, /v2/returns/rfbs/get, "
        "/v1/returns/rfbs/action/set" in partial.stdout
    )


async def test_check_says_when_the_key_is_refused_or_not_set(
    tmp_path: Path, fake_ozon: FakeOzon
) -> None:
    fake_ozon.seller(CLIENT_ID, "some other key")
    config, env = setup(tmp_path, fake_ozon)
    refused = await returndesk_async("ozon", "check", *config, cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert "Ozon refused the key: Invalid Api-Key" in refused.stderr
    unset = await returndesk_async(
        "ozon", "check", *config, cwd=tmp_path, env={**env, "RETURNDESK_OZON_API_KEY_ACME": ""}
    )
    assert unset.returncode == 1
    assert "RETURNDESK_OZON_API_KEY_ACME" in unset.stderr
    assert API_KEY not in unset.stderr + unset.stdout


async def test_a_key_read_from_a_file(tmp_path: Path, fake_ozon: FakeOzon) -> None:
    seller(fake_ozon)
    config, env = setup(tmp_path, fake_ozon)
    secret = tmp_path / "ozon-acme.key"
    secret.write_text(API_KEY + "\n", encoding="utf-8")
    env = {
        **env,
        "RETURNDESK_OZON_API_KEY_ACME": "",
        "RETURNDESK_OZON_API_KEY_FILE_ACME": str(secret),
    }
    result = await returndesk_async("ozon", "check", *config, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


async def test_a_key_in_the_shop_file_is_refused(tmp_path: Path, fake_ozon: FakeOzon) -> None:
    shop = SHOP.replace(
        f'client_id = "{CLIENT_ID}"', f'client_id = "{CLIENT_ID}"\napi_key = "{API_KEY}"'
    )
    config, env = setup(tmp_path, fake_ozon, shop)
    result = await returndesk_async("ozon", "check", *config, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "never goes in the shop file" in result.stderr
    assert "RETURNDESK_OZON_API_KEY_ACME" in result.stderr
    assert API_KEY not in result.stderr
    assert fake_ozon.calls == []
