"""`returndesk orders import`: JSON and CSV, idempotent, bad rows reported and skipped."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.enums import OrderStatus
from bot.domain.money import Money
from tests.conftest import POSTGRES_URL
from tests.desk import Desk, open_flow
from tests.test_cli import returndesk


def good(number: str = "Z-1", **changes: Any) -> dict[str, Any]:
    order = {
        "marketplace": "ozon",
        "number": number,
        "seller": "acme",
        "buyer": {
            "telegram_id": 101,
            "name": "Anna",
            "language": "en",
            "timezone": "Europe/Berlin",
        },
        "currency": "RUB",
        "paid": "1000.50",
        "shipping": "99",
        "status": "delivered",
        "placed_at": "2026-11-01T10:00:00+03:00",
        "shipped_at": "2026-11-02T10:00:00+03:00",
        "delivered_at": "2026-11-10T10:00:00+03:00",
        "items": [{"sku": "K-1", "title": "Kettle", "quantity": 1, "unit_price": "1000.50"}],
    }
    order.update(changes)
    return order


async def test_reimporting_updates_and_never_duplicates(desk: Desk) -> None:
    first = await desk.import_raw([good("Z-1"), good("Z-2")])
    assert (first.created, first.updated, first.unchanged, first.problems) == (2, 0, 0, [])
    again = await desk.import_raw(
        [good("Z-1"), good("Z-2", status="completed", completed_at="2026-11-20T10:00:00+03:00")]
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    order = await desk.get_order("Z-2")
    assert order.status is OrderStatus.COMPLETED
    assert order.paid_total == Money.of("1099.50", "RUB")


async def test_bad_rows_are_reported_with_their_position_and_good_rows_kept(desk: Desk) -> None:
    report = await desk.import_raw(
        [
            good("Z-1"),
            good("Z-2", paid="12.345"),
            good("Z-3", seller="nobody"),
            good("Z-4", status="delivered", delivered_at=None),
            good("Z-5", items=[]),
            good("Z-6", placed_at="2026-11-01T10:00:00"),
            good("Z-7"),
        ]
    )
    assert report.created == 2
    problems = {p.position: p.message for p in report.problems}
    assert set(problems) == {"order 2", "order 3", "order 4", "order 5", "order 6"}
    assert "more decimals than RUB allows" in problems["order 2"]
    assert "seller 'nobody' is not in the shop file" in problems["order 3"]
    assert "status delivered needs delivered_at" in problems["order 4"]
    assert problems["order 5"].startswith("items:")
    assert problems["order 6"].startswith("placed_at:")


async def test_money_in_json_numbers_stays_exact(desk: Desk) -> None:
    raw = json.dumps(
        {
            "orders": [
                good(
                    "Z-9",
                    paid=0.1,
                    shipping=0.2,
                    items=[{"sku": "A", "title": "A", "quantity": 3, "unit_price": 0.1}],
                )
            ]
        }
    )
    path = desk.workdir / "floats.json"
    path.write_text(raw.replace('"0.1"', "0.1"), encoding="utf-8")
    report = await desk.sandbox.import_orders(path)
    assert report.ok, report.problems
    order = await desk.get_order("Z-9")
    assert order.paid_total == Money.of("0.30", "RUB")


async def test_csv_lines_of_one_order_become_its_items(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "marketplace,number,seller,buyer_telegram_id,buyer_name,buyer_language,buyer_timezone,"
        "currency,paid,shipping,status,placed_at,shipped_at,delivered_at,sku,title,quantity,unit_price\n"
        "ozon,C-1,acme,101,Anna,en,Europe/Berlin,RUB,3500,0,delivered,2026-11-01T10:00:00+03:00,"
        "2026-11-02T10:00:00+03:00,2026-11-09T10:00:00+03:00,SPK,Speaker,1,3000\n"
        "ozon,C-1,acme,101,Anna,en,Europe/Berlin,RUB,3500,0,delivered,2026-11-01T10:00:00+03:00,"
        "2026-11-02T10:00:00+03:00,2026-11-09T10:00:00+03:00,CBL,Cable,2,250\n"
        "ozon,C-2,acme,101,Anna,en,Europe/Berlin,RUB,oops,0,delivered,2026-11-01T10:00:00+03:00,"
        "2026-11-02T10:00:00+03:00,2026-11-09T10:00:00+03:00,X,X,1,1\n"
        "ozon,C-1,acme,101,Anna,en,Europe/Berlin,RUB,9999,0,delivered,2026-11-01T10:00:00+03:00,"
        "2026-11-02T10:00:00+03:00,2026-11-09T10:00:00+03:00,Z,Z,1,1\n",
        encoding="utf-8",
    )
    report = await desk.sandbox.import_orders(path)
    assert report.created == 1
    assert [p.position for p in report.problems] == ["line 5", "line 4"]
    order = await desk.get_order("C-1")
    assert [(i.sku, i.quantity) for i in order.items] == [("SPK", 1), ("CBL", 2)]


async def test_paid_cannot_drop_below_what_was_already_refunded(desk: Desk) -> None:
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Mug", 1, "1000")], number="Z-1")
    await open_flow(anna, "problem", order)
    await anna.click("wrong price")
    await anna.click("Keep it")
    await anna.send("400")
    await anna.click("Accept")
    report = await desk.import_raw(
        [
            good(
                "Z-1",
                paid="300",
                shipping="0",
                items=[{"sku": "SKU-1", "title": "Mug", "quantity": 1, "unit_price": "300"}],
            )
        ]
    )
    [problem] = report.problems
    assert "less than the 400.00 RUB already refunded" in problem.message
    assert (await desk.get_order("Z-1")).paid_total == Money.of("1000", "RUB")


async def test_the_demo_orders_import(desk: Desk) -> None:
    from bot.demo import DEMO_ORDERS

    report = await desk.sandbox.import_orders(DEMO_ORDERS)
    assert (report.created, report.problems) == (4, [])


# -- bad input: each bad row is named with its field and why, and the good rows are kept ------


async def test_values_past_what_the_database_holds_are_reported_per_row(desk: Desk) -> None:
    too_big_item = [{"sku": "K-1", "title": "Kettle", "quantity": 1, "unit_price": "1e30"}]
    report = await desk.import_raw(
        [
            good("Z-1"),
            good("Z-2", paid="1e30"),
            good("Z-3", paid="1000000000.01"),
            good("Z-4", shipping=str(2**70)),
            good("Z-5", items=too_big_item),
            good("Z-6", buyer={"telegram_id": 2**63, "name": "Anna"}),
            good("Z-7", placed_at="9999-12-31T23:00:00-05:00"),
            good("Z-8", paid="NaN"),
            good("Z-9"),
        ]
    )
    problems = {p.position: p.message for p in report.problems}
    assert report.created == 2, problems
    assert problems["order 2"].startswith("paid: Input should be less than or equal to 1000000000")
    assert problems["order 3"].startswith("paid: Input should be less than or equal to 1000000000")
    assert problems["order 4"].startswith("shipping: Input should be less than or equal")
    assert problems["order 5"].startswith("items.0.unit_price: Input should be less than or equal")
    assert problems["order 6"].startswith("buyer.telegram_id: Input should be less than or equal")
    assert problems["order 7"] == "placed_at: is past the year 9999 in UTC"
    assert problems["order 8"] == "paid: Input should be a finite number"
    assert set(problems) == {f"order {n}" for n in range(2, 9)}


async def test_a_number_too_long_for_python_is_one_orders_problem(desk: Desk) -> None:
    huge = good("Z-2", buyer={"telegram_id": 0})
    text = json.dumps([good("Z-1"), huge])
    text = text.replace('"telegram_id": 0', '"telegram_id": ' + "9" * 5000)
    path = desk.workdir / "huge.json"
    path.write_text(text, encoding="utf-8")
    report = await desk.sandbox.import_orders(path)
    assert report.created == 1
    [problem] = report.problems
    assert problem.position == "order 2"
    assert problem.message.startswith("buyer.telegram_id: Input should be less than or equal to")


async def test_only_iso_4217_currencies_in_use_are_accepted(desk: Desk) -> None:
    report = await desk.import_raw(
        [
            good("Z-1", currency="XYZ"),
            good("Z-2", currency="RUR"),
            good("Z-3", currency="XAU"),
            good("Z-4", currency="EUR", paid="1000.50"),
        ]
    )
    problems = {p.position: p.message for p in report.problems}
    assert problems == {
        "order 1": "currency: 'XYZ' is not an ISO 4217 currency code",
        "order 2": "currency: RUR was not legal tender anywhere on 2026-11-01",
        "order 3": "currency: XAU was not legal tender anywhere on 2026-11-01",
    }
    assert report.created == 1


async def test_text_the_database_cannot_store_is_reported(desk: Desk) -> None:
    nul = good("Z-2", buyer={"telegram_id": 101, "name": "An\x00na"})
    surrogate = good("Z-3", tracking_number="RR\ud800")
    report = await desk.import_raw([good("Z-1"), nul, surrogate, good("Z-4")])
    problems = {p.position: p.message for p in report.problems}
    assert problems == {
        "order 2": "buyer.name: contains a NUL character",
        "order 3": "tracking_number: Input should be a valid string, unable to parse raw data "
        "as a unicode string",
    }
    assert report.created == 2


CSV_HEADER = (
    "marketplace",
    "number",
    "seller",
    "buyer_telegram_id",
    "buyer_name",
    "currency",
    "paid",
    "shipping",
    "status",
    "placed_at",
    "shipped_at",
    "delivered_at",
    "sku",
    "title",
    "quantity",
    "unit_price",
)


def csv_line(number: str, name: str, title: str, **changes: str) -> dict[str, str]:
    line = {
        "marketplace": "ozon",
        "number": number,
        "seller": "acme",
        "buyer_telegram_id": "101",
        "buyer_name": name,
        "currency": "RUB",
        "paid": "3500.50",
        "shipping": "0",
        "status": "delivered",
        "placed_at": "2026-11-01T10:00:00+03:00",
        "shipped_at": "2026-11-02T10:00:00+03:00",
        "delivered_at": "2026-11-09T10:00:00+03:00",
        "sku": "SPK",
        "title": title,
        "quantity": "1",
        "unit_price": "3500.50",
    }
    line.update(changes)
    return line


def write_csv(path: Path, lines: list[dict[str, str]], *, separator: str, encoding: str) -> Path:
    rows = [separator.join(CSV_HEADER)]
    rows += [separator.join(line[column] for column in CSV_HEADER) for line in lines]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))
    return path


async def test_a_russian_spreadsheet_export_imports(desk: Desk, tmp_path: Path) -> None:
    """Windows-1251, semicolons and decimal commas: what Excel saves as CSV in a Russian locale."""
    path = write_csv(
        tmp_path / "orders.csv",
        [
            csv_line("C-1", "Анна Петрова", "Чайник электрический", paid="3500,50"),
            csv_line("C-2", "Иван", "Кружка", paid="1e30"),
            csv_line("C-3", "Ольга", "Наушники", buyer_telegram_id=str(2**64)),
            csv_line("C-4", "Ёжик", "Ёлка", unit_price="3500,50"),
        ],
        separator=";",
        encoding="cp1251",
    )
    report = await desk.sandbox.import_orders(path)
    problems = {p.position: p.message for p in report.problems}
    assert set(problems) == {"line 3", "line 4"}, problems
    assert problems["line 3"].startswith("paid: Input should be less than or equal to 1000000000")
    assert problems["line 4"].startswith("buyer.telegram_id: Input should be less than or equal")
    assert report.created == 2
    assert report.encoding == "cp1251"
    kettle = await desk.get_order("C-1")
    assert kettle.paid_total == Money.of("3500.50", "RUB")
    assert [i.title for i in kettle.items] == ["Чайник электрический"]
    assert [i.title for i in (await desk.get_order("C-4")).items] == ["Ёлка"]


async def test_chinese_and_unicode_text_exports_import(desk: Desk, tmp_path: Path) -> None:
    """GB18030 (a Chinese Excel's CSV), UTF-16 with tabs (Excel's "Unicode text"), UTF-8 with
    a BOM and UTF-32 are each read as what they are."""
    gbk = write_csv(
        tmp_path / "gbk.csv",
        [csv_line("G-1", "王芳", "电热水壶")],
        separator=",",
        encoding="gb18030",
    )
    utf16 = write_csv(
        tmp_path / "utf16.csv",
        [csv_line("U-1", "Анна", "水壶")],
        separator="\t",
        encoding="utf-16",
    )
    bom = write_csv(
        tmp_path / "bom.csv",
        [csv_line("B-1", "Zoë", "Ёлка")],
        separator=",",
        encoding="utf-8-sig",
    )
    utf32 = write_csv(
        tmp_path / "utf32.csv",
        [csv_line("W-1", "Anna", "茶壶")],
        separator=";",
        encoding="utf-32",
    )
    for path, number, title, encoding in [
        (gbk, "G-1", "电热水壶", "gb18030"),
        (utf16, "U-1", "水壶", "utf-16"),
        (bom, "B-1", "Ёлка", "utf-8"),
        (utf32, "W-1", "茶壶", "utf-32"),
    ]:
        report = await desk.sandbox.import_orders(path)
        assert (report.created, report.problems, report.encoding) == (1, [], encoding)
        assert [i.title for i in (await desk.get_order(number)).items] == [title]


async def test_a_csv_whose_header_cannot_be_read_is_said_once(desk: Desk, tmp_path: Path) -> None:
    pipes = write_csv(
        tmp_path / "pipes.csv", [csv_line("P-1", "A", "B")], separator="|", encoding="utf-8"
    )
    report = await desk.sandbox.import_orders(pipes)
    assert [str(p) for p in report.problems] == [
        "line 1: no known column in the header; the columns must be separated by commas, "
        "semicolons or tabs"
    ]
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("marketplace;number;seller;sku\nozon;1;acme;A\n", encoding="utf-8")
    report = await desk.sandbox.import_orders(lacking)
    assert [str(p) for p in report.problems] == [
        "line 1: the header (separated by ';') lacks the columns currency, paid, status, "
        "placed_at, title, quantity, unit_price"
    ]


async def test_a_broken_csv_line_keeps_the_lines_before_it(desk: Desk, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "big.csv",
        [csv_line("F-1", "Anna", "Kettle"), csv_line("F-2", "Anna", "x" * 200_000)],
        separator=",",
        encoding="utf-8",
    )
    report = await desk.sandbox.import_orders(path)
    assert report.created == 1
    [problem] = report.problems
    assert problem.position == "line 3"
    assert "field larger than field limit" in problem.message


async def test_a_json_file_nested_too_deeply_is_said_in_a_line(desk: Desk) -> None:
    path = desk.workdir / "deep.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    report = await desk.sandbox.import_orders(path)
    assert [str(p) for p in report.problems] == ["file: cannot read JSON: nested too deeply"]


# -- through the command, on both databases -------------------------------------------------


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own for the command to create and migrate (it takes no schema)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        return
    name = f"rd_import_{uuid.uuid4().hex[:10]}"
    asyncio.run(_server(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_server(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _server(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def test_the_command_imports_a_russian_export_with_bad_rows(
    database_url: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "заказы.csv",
        [
            csv_line("C-1", "Анна", "Чайник", paid="3500,50"),
            csv_line("C-2", "Иван", "Кружка", paid="1e30"),
            csv_line("C-3", "Ольга", "Наушники", buyer_telegram_id="99999999999999999999"),
            csv_line("C-4", "Пётр", "Ёлка", currency="XYZ"),
            csv_line("C-5", "Зоя", "Лампа"),
        ],
        separator=";",
        encoding="cp1251",
    )
    env = {"RETURNDESK_DATABASE_URL": database_url}
    shop = str(Path(__file__).parent / "data" / "shop.toml")
    result = returndesk("orders", "import", str(path), "--config", shop, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{path} (read as cp1251): 2 created, 0 updated, 0 unchanged, 3 skipped" in (
        result.stdout
    )
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == ["line 3", "line 4", "line 5"]
    assert "line 3: paid: Input should be less than or equal to 1000000000" in lines[0]
    assert "line 4: buyer.telegram_id: Input should be less than or equal to" in lines[1]
    assert "line 5: currency: 'XYZ' is not an ISO 4217 currency code" in lines[2]
    again = returndesk("orders", "import", str(path), "--config", shop, cwd=tmp_path, env=env)
    assert "0 created, 0 updated, 2 unchanged, 3 skipped" in again.stdout


def test_the_command_reads_the_encoding_it_is_told(database_url: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "koi8.csv",
        [csv_line("K-1", "Анна", "Чайник")],
        separator=",",
        encoding="koi8_r",
    )
    env = {"RETURNDESK_DATABASE_URL": database_url}
    shop = str(Path(__file__).parent / "data" / "shop.toml")
    result = returndesk(
        "orders",
        "import",
        str(path),
        "--encoding",
        "koi8-r",
        "--config",
        shop,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert f"{path} (read as koi8-r): 1 created" in result.stdout
    unknown = returndesk(
        "orders",
        "import",
        str(path),
        "--encoding",
        "martian",
        "--config",
        shop,
        cwd=tmp_path,
        env=env,
    )
    assert unknown.returncode == 2
    assert "Traceback" not in unknown.stderr
    assert "unknown encoding 'martian'" in unknown.stderr


async def test_phone_digits_and_postal_codes_are_refused_without_the_link_secret(
    desk: Desk, tmp_path: Path
) -> None:
    from bot.services.importer import import_orders

    path = tmp_path / "orders.json"
    with_phone = good("P-1", buyer={"name": "Anna", "phone": "+49 30 1234 5678"})
    path.write_text(json.dumps([with_phone, good("P-2")]), encoding="utf-8")
    async with desk.db.unit() as tx:
        shop = desk.sandbox.app.shop
        report = await import_orders(tx, path, shop=shop, now=desk.clock.now())
    assert report.created == 1
    assert [str(p) for p in report.problems] == [
        "order 1: buyer.phone/postal_code: set RETURNDESK_LINK_SECRET first; they are stored "
        "only hashed with it (docs/claiming.md)"
    ]
    bad = await desk.import_raw([good("P-3", buyer={"phone": "12"})])
    assert "buyer.phone: needs at least its last four digits" in str(bad.problems[0])
