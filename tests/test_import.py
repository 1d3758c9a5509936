"""`returndesk orders import`: JSON and CSV, idempotent, bad rows reported and skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.domain.enums import OrderStatus
from bot.domain.money import Money
from tests.desk import Desk, open_flow


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
