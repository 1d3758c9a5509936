"""The monthly report's figures against a month whose totals are known (docs/reports.md).

Orders come through the importer and refunds through the ledger; cases, offers and promises
are written as rows, at the moments the month needs."""

from __future__ import annotations

import csv
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.domain.enums import (
    CaseKind,
    CaseState,
    OfferStatus,
    PromiseKind,
    PromiseState,
    Reason,
    Remedy,
    Role,
)
from bot.domain.money import Money
from bot.rendering import Reader
from bot.rendering.fonts import find_font
from bot.services import ledger
from bot.services.report import WHOLE_ORDER, Month, month_report
from bot.services.report_files import Words, write_charts, write_csv, write_html
from bot.storage.models import Case, Offer, Order, Promise
from bot.storage.transaction import Transaction
from tests.desk import BUYERS, Desk


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


async def seed_november(desk: Desk) -> None:
    """Acme's November 2026 (Europe/Berlin), and one case of its October."""
    desk.at(utc("2026-10-15T08:00:00"))
    old = await desk.order("ivan", items=[("Lamp", 1, "1000")])
    desk.at(utc("2026-11-16T06:00:00"))
    a = await desk.order(items=[("Kettle", 1, "2000"), ("Mug", 2, "500")])  # placed 6 Nov
    b = await desk.order(items=[("Kettle", 1, "2000")])
    anna = BUYERS["anna"].user_id
    async with desk.db.session() as session, session.begin():
        tx = Transaction.of(session)

        def open_case(order: Order, item: int | None, reason: Reason, at: str) -> Case:
            created = utc(at)
            case = Case(
                order_id=order.id,
                buyer_id=order.buyer_id,
                seller_id="acme",
                kind=CaseKind.PROBLEM,
                state=CaseState.AWAITING_SELLER,
                reason=reason,
                item_id=None if item is None else order.items[item].id,
                created_at=created,
                updated_at=created,
            )
            session.add(case)
            return case

        def resolve(case: Case, at: str) -> None:
            case.state = CaseState.RESOLVED
            case.closed_at = utc(at)

        def promise(  # noqa: PLR0917 (one line of the month a call)
            case: Case, kind: PromiseKind, owner: str, due: str, state: str, at: str
        ) -> None:
            session.add(
                Promise(
                    case_id=case.id,
                    kind=kind,
                    owner_role=Role.SUPPORT if owner == "support" else Role.SELLER,
                    owner_ref=owner,
                    state=PromiseState(state),
                    created_at=case.created_at,
                    due_at=utc(due),
                    warn_at=utc(due) - timedelta(minutes=30),
                    closed_at=utc(at),
                )
            )

        def offer(case: Case, standard: int, amount: int, deviation: bool) -> None:
            session.add(
                Offer(
                    case_id=case.id,
                    round=1,
                    remedy=Remedy.REFUND,
                    amount_minor=amount,
                    currency="RUB",
                    standard_remedy=Remedy.PERCENT,
                    standard_amount_minor=standard,
                    deviation=deviation,
                    proposed_by_role=Role.SELLER,
                    status=OfferStatus.ACCEPTED,
                    created_at=case.created_at + timedelta(hours=1),
                    decided_by_name="Dora",
                )
            )

        one = open_case(a, 0, Reason.DEFECT, "2026-11-02T10:00:00")
        two = open_case(a, 1, Reason.WRONG_ITEM, "2026-11-05T00:00:00")
        # 23:30 UTC on 31 October is 00:30 on 1 November in Berlin: Acme's November.
        three = open_case(b, None, Reason.DEFECT, "2026-10-31T23:30:00")
        october = open_case(old, None, Reason.DEFECT, "2026-10-20T09:00:00")
        await session.flush()
        resolve(one, "2026-11-03T10:00:00")  # 24 h
        resolve(two, "2026-11-05T02:00:00")  # 2 h
        resolve(october, "2026-10-21T09:00:00")
        for case, rating, comment, at in (
            (one, 5, None, "2026-11-04T10:00:00"),
            (two, 2, "Still broken", "2026-11-06T10:00:00"),
            (october, 1, "Never again", "2026-10-23T10:00:00"),
        ):
            case.rating, case.rating_comment, case.rated_at = rating, comment, utc(at)
        promise(
            one,
            PromiseKind.FIRST_REPLY,
            "acme",
            "2026-11-02T12:00:00",
            "kept",
            "2026-11-02T11:00:00",
        )
        promise(
            one,
            PromiseKind.SELLER_DECISION,
            "acme",
            "2026-11-03T09:00:00",
            "breached",
            "2026-11-03T09:00:00",
        )
        promise(
            two,
            PromiseKind.FIRST_REPLY,
            "acme",
            "2026-11-05T03:00:00",
            "kept",
            "2026-11-05T00:30:00",
        )
        promise(
            three,
            PromiseKind.FIRST_REPLY,
            "support",
            "2026-11-01T02:00:00",
            "breached",
            "2026-11-01T03:00:00",
        )
        promise(
            three,
            PromiseKind.SUPPORT_REPLY,
            "support",
            "2026-12-01T02:00:00",
            "open",
            "2026-12-01T02:00:00",
        )
        offer(one, standard=40000, amount=50000, deviation=True)
        offer(two, standard=100000, amount=80000, deviation=True)
        offer(three, standard=30000, amount=30000, deviation=False)
        for order, case, amount, reason, at in (
            (a, one, "500", Reason.DEFECT, "2026-11-03T10:00:00"),
            (a, two, "1000", Reason.WRONG_ITEM, "2026-11-05T02:00:00"),
            (b, three, "300", Reason.DEFECT, "2026-11-11T10:00:00"),
            (old, october, "200", Reason.DEFECT, "2026-10-21T09:00:00"),
        ):
            await ledger.approve_refund(
                tx,
                order_id=order.id,
                amount=Money.of(amount, "RUB"),
                reason=reason,
                key=f"case:{case.id}",
                now=utc(at),
                case_id=case.id,
            )
    assert anna == a.buyer_id == b.buyer_id


async def test_a_month_whose_totals_are_known(desk: Desk) -> None:
    await seed_november(desk)
    async with desk.db.reading() as tx:
        report = await month_report(tx, Month(2026, 11), seller="acme")

    assert report.zone == "Europe/Berlin"
    assert [(a.key, a.count, a.minor) for a in report.by_reason] == [
        ("wrong_item", 1, 100000),
        ("defect", 2, 80000),
    ]
    assert [(a.key, a.count, a.minor) for a in report.by_sku] == [
        ("SKU-2", 1, 100000),
        ("SKU-1", 1, 50000),
        (WHOLE_ORDER, 1, 30000),
    ]
    [ozon] = report.by_marketplace
    assert (ozon.key, ozon.currency, ozon.count, ozon.minor) == ("ozon", "RUB", 3, 180000)
    assert ozon.revenue_minor == 500000  # the two November orders; October's is not counted
    assert ozon.share == 0.36

    assert [(d.decided_by, d.count, d.above_minor, d.below_minor) for d in report.deviations] == [
        ("Dora", 2, 10000, 20000)
    ]
    assert [(p.kind, p.owner, p.kept, p.breached) for p in report.promises] == [
        (PromiseKind.FIRST_REPLY, "acme", 2, 0),
        (PromiseKind.FIRST_REPLY, "support", 0, 1),
        (PromiseKind.SELLER_DECISION, "acme", 0, 1),
    ]
    assert len(report.kept_by_day) == 30
    assert report.kept_by_day[:5] == [(0, 1), (1, 0), (0, 1), (0, 0), (1, 0)]
    assert sum(k + b for k, b in report.kept_by_day) == 4

    # First replies: 1 h, 30 min, 3 h 30; resolutions: 24 h and 2 h.
    assert report.first_reply.count == 3
    assert report.first_reply.median == timedelta(hours=1)
    assert report.first_reply.p90 == timedelta(hours=3)
    assert report.resolution.count == 2
    assert report.resolution.median == timedelta(hours=13)
    assert report.resolution.p90 == timedelta(hours=21, minutes=48)

    assert [(b.name, b.cases) for b in report.top_buyers] == [("Anna", 3)]
    assert report.satisfaction.distribution == {5: 1, 2: 1}
    assert report.satisfaction.average == 3.5
    assert [(r, text) for _, r, text in report.satisfaction.lowest] == [(2, "Still broken")]
    assert report.totals.cases == 3
    assert report.totals.refunds == 3
    assert report.totals.refunded_minor == {"RUB": 180000}
    assert (report.totals.kept, report.totals.breached) == (2, 2)
    assert report.previous.cases == 1
    assert report.previous.refunded_minor == {"RUB": 20000}


async def test_all_sellers_count_in_utc(desk: Desk) -> None:
    await seed_november(desk)
    async with desk.db.reading() as tx:
        report = await month_report(tx, Month(2026, 11))
    assert report.zone == "UTC"
    # The case opened at 23:30 UTC on 31 October is October's in UTC.
    assert report.totals.cases == 2
    assert report.previous.cases == 2


def test_months() -> None:
    assert Month.parse("2026-01").previous == Month(2025, 12)
    assert [str(m) for m in Month.span("2026-11..2027-02")] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]


@pytest.mark.parametrize("locale", ["en", "ru", "zh"])
async def test_the_files_in_each_language(desk: Desk, tmp_path: Path, locale: str) -> None:
    await seed_november(desk)
    async with desk.db.reading() as tx:
        report = await month_report(tx, Month(2026, 11), seller="acme")
    words = Words(desk.sandbox.app.renderer, Reader(locale, "Europe/Berlin"))

    charts = write_charts(report, words, find_font(None), tmp_path)
    assert [p.name for p in charts] == [
        "report-acme-2026-11-by_reason.png",
        "report-acme-2026-11-by_sku.png",
        "report-acme-2026-11-satisfaction.png",
        "report-acme-2026-11-kept.png",
    ]
    for chart in charts:
        with Image.open(chart) as image:
            image.verify()
        with Image.open(chart) as image:
            assert image.format == "PNG"
            assert image.size == (900, 1200)  # portrait, for a phone
            # Nothing runs off the sides: the outermost columns are blank.
            grey = image.convert("L")
            edges = [grey.crop((x, 0, x + 2, 1200)).getextrema()[0] for x in (0, 898)]
            assert min(edges) > 200, f"{chart.name} is cut off at a side"
    if os.environ.get("RETURNDESK_KEEP_CHARTS"):  # to look at them
        for chart in charts:
            shutil.copy(
                chart, Path(os.environ["RETURNDESK_KEEP_CHARTS"]) / f"{locale}-{chart.name}"
            )

    page = write_html(report, words, charts, tmp_path / "report.html").read_text("utf-8")
    assert page.count('src="data:image/png;base64,') == 4
    assert "Still broken" in page
    assert words("by_reason") in page
    expected = {
        "en": "Refunds by reason",
        "ru": "Возвраты денег по причинам",
        "zh": "按原因统计的退款",
    }
    assert words("by_reason") == expected[locale]
    assert words.money(180000, "RUB") in page
    assert words.reason("wrong_item") in page


async def test_the_csv_has_every_figure_in_decimal_amounts(desk: Desk, tmp_path: Path) -> None:
    await seed_november(desk)
    async with desk.db.reading() as tx:
        report = await month_report(tx, Month(2026, 11), seller="acme")
    path = write_csv(report, tmp_path / "report.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    by = {(r["section"], r["key"]): r for r in rows}
    assert by["reason", "defect"]["amount"] == "800.00"
    assert by["reason", "defect"]["count"] == "2"
    assert by["sku", ""]["amount"] == "300.00"
    assert by["marketplace", "ozon"]["share"] == "0.3600"
    assert by["above_standard", "Dora"]["amount"] == "100.00"
    assert by["below_standard", "Dora"]["amount"] == "200.00"
    assert by["promise_kept", "first_reply:acme"]["count"] == "2"
    assert by["first_reply_median_hours", ""]["amount"] == "1.00"
    assert by["resolution_p90_hours", ""]["amount"] == "21.80"
    assert by["this_month_refunds", ""]["amount"] == "1800.00"
    assert by["previous_month_refunds", ""]["amount"] == "200.00"
    assert by["rating", "2"]["count"] == "1"
    assert by["rating", "1"]["count"] == "0"
    assert by["rating_average", ""]["amount"] == "3.50"
    assert {r["month"] for r in rows} == {"2026-11"}


def test_the_command_prints_the_tables_and_writes_files(tmp_path: Path) -> None:
    """An empty month on a fresh database: the command runs through every format."""
    from tests.test_cli import returndesk

    env = {"RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    shop = str(Path(__file__).parent / "data" / "shop.toml")
    text = returndesk(
        "report", "--month", "2026-11", "--seller", "acme", "--config", shop, cwd=tmp_path, env=env
    )
    assert text.returncode == 0, text.stderr
    assert "Returns and refunds · acme · 2026-11" in text.stdout
    assert "Refunds by reason" in text.stdout
    for format, suffix in (("csv", ".csv"), ("png", ".png"), ("html", ".html")):
        made = returndesk(
            "report",
            "--months",
            "2026-10..2026-11",
            "--format",
            format,
            "--out",
            "out",
            "--config",
            shop,
            cwd=tmp_path,
            env=env,
        )
        assert made.returncode == 0, made.stderr
        files = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == suffix)
        assert files[0].startswith("report-all-2026-10"), files
        assert any(name.startswith("report-all-2026-11") for name in files)
