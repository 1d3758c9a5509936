"""`returndesk links`: each order's signed link, its QR code, and a sheet of parcel cards in the
buyer's language; `returndesk orders rebind`; the import's hashed checks (docs/claiming.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from bot.domain.claims import CheckKind, ClaimKeys, TokenState
from tests.conftest import LINK_SECRET
from tests.test_cli import returndesk
from tests.test_import import good

SHOP = str(Path(__file__).parent / "data" / "shop.toml")
LINK = re.compile(r"https://t\.me/ReturnDeskTestBot\?start=(c[A-Za-z0-9_-]{27})")


def unclaimed(number: str, language: str, seller: str = "acme") -> dict[str, Any]:
    buyer = {"name": "", "language": language, "phone": "+7 916 555-12-34"}
    return good(number, seller=seller, buyer=buyer)


@pytest.fixture
def shop_with_orders(tmp_path: Path) -> dict[str, str]:
    env = {
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "RETURNDESK_LINK_BOT_USERNAME": "ReturnDeskTestBot",
    }
    path = tmp_path / "orders.json"
    orders = [unclaimed("R-1", "ru"), unclaimed("Z-2", "zh"), unclaimed("E-3", "en")]
    path.write_text(json.dumps({"orders": orders}), encoding="utf-8")
    done = returndesk("orders", "import", str(path), "--config", SHOP, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    return env


def test_links_writes_a_qr_per_order_and_a_pdf_of_cards_in_each_buyers_language(
    tmp_path: Path, shop_with_orders: dict[str, str]
) -> None:
    env = shop_with_orders
    result = returndesk(
        "links", "R-1", "Z-2", "E-3", "--out", "cards", "--config", SHOP, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    tokens = LINK.findall(result.stdout)
    assert len(tokens) == 3 and all(len(t) <= 64 for t in tokens)
    keys = ClaimKeys(LINK_SECRET.encode())
    now = datetime.now(UTC)
    readings = [keys.read(t, now) for t in tokens]
    assert all(r.state is TokenState.VALID for r in readings)
    assert keys.read(tokens[0], now + timedelta(days=181)).state is TokenState.EXPIRED

    folder = tmp_path / "cards"
    qr = folder / "acme-ozon-R-1.png"
    decoded = zxingcpp.read_barcodes(Image.open(qr))
    assert [d.text for d in decoded] == [f"https://t.me/ReturnDeskTestBot?start={tokens[0]}"]

    # pypdf reads the font's two-byte codes with a NUL before each character.
    raw = PdfReader(folder / "cards.pdf").pages[0].extract_text().replace("\x00", "")
    text = "".join(raw.split())
    assert "Проблемасзаказом?" in text  # Russian for the Russian buyer
    assert "订单有问题？" in text and "扫码获取帮助" in text  # Chinese for the Chinese one
    assert "Problemwithyourorder?" in text and "Scantogethelp" in text
    assert "#R-1·AcmeGoods" in text  # the order and the seller's name


def test_all_new_makes_each_card_once_and_a_png_sheet_reads_back(
    tmp_path: Path, shop_with_orders: dict[str, str]
) -> None:
    env = shop_with_orders
    first = returndesk(
        "links", "--all-new", "--format", "png", "--config", SHOP, cwd=tmp_path, env=env
    )
    assert first.returncode == 0, first.stderr
    assert len(LINK.findall(first.stdout)) == 3
    sheet = tmp_path / "cards" / "cards-1.png"
    codes = zxingcpp.read_barcodes(Image.open(sheet))
    links = [f"https://t.me/ReturnDeskTestBot?start={t}" for t in LINK.findall(first.stdout)]
    assert sorted(c.text for c in codes) == sorted(links)
    again = returndesk("links", "--all-new", "--config", SHOP, cwd=tmp_path, env=env)
    assert again.returncode == 0 and "no orders without a link" in again.stdout


def test_links_without_a_secret_is_refused_in_one_line(
    tmp_path: Path, shop_with_orders: dict[str, str]
) -> None:
    env = {**shop_with_orders, "RETURNDESK_LINK_SECRET": ""}
    result = returndesk("links", "R-1", "--config", SHOP, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "RETURNDESK_LINK_SECRET is not set: links cannot be signed (docs/claiming.md)"
    )


def test_rebind_gives_an_order_to_another_account(
    tmp_path: Path, shop_with_orders: dict[str, str]
) -> None:
    env = shop_with_orders
    result = returndesk("orders", "rebind", "R-1", "102", "--config", SHOP, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "order R-1 now belongs to Telegram user 102" in result.stdout
    missing = returndesk("orders", "rebind", "NOPE", "102", "--config", SHOP, cwd=tmp_path, env=env)
    assert missing.returncode == 1 and "no such order" in missing.stderr


def test_checks_are_stored_only_as_keyed_hashes_and_compared_as_people_write_them() -> None:
    keys = ClaimKeys(LINK_SECRET.encode())
    stored = keys.fingerprint(CheckKind.PHONE_LAST4, "+7 (916) 555-12-34")
    assert stored is not None and "1234" not in stored
    assert keys.matches(CheckKind.PHONE_LAST4, "1234", stored)
    assert keys.matches(CheckKind.PHONE_LAST4, "ends in 12 34", stored)
    assert not keys.matches(CheckKind.PHONE_LAST4, "4321", stored)
    assert not ClaimKeys(b"x" * 32).matches(CheckKind.PHONE_LAST4, "1234", stored)
    postal = keys.fingerprint(CheckKind.POSTAL_CODE, "sw1a 1aa")
    assert postal is not None and keys.matches(CheckKind.POSTAL_CODE, "SW1A1AA", postal)


def test_a_token_is_refused_when_changed_anywhere() -> None:
    keys = ClaimKeys(LINK_SECRET.encode())
    now = datetime(2026, 11, 16, tzinfo=UTC)
    token = keys.token(42, now + timedelta(days=1))
    assert keys.read(token, now).order_id == 42
    for i in range(1, len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert keys.read(changed, now).state is TokenState.FORGED
    assert keys.read("order_42", now).state is TokenState.FORGED
    # The last character carries two unused bits: another spelling of the same bytes is refused.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(token[-1])
    twin = token[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]
    assert keys.read(twin, now).state is TokenState.FORGED
