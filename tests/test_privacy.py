"""One buyer's personal data (docs/privacy.md): the export holds everything about them and
nothing about anyone else; the erasure removes their words, photos and name, keeps the ledger
whole, is audited, and changes nothing more when run again. Through the services on both
databases, and through `returndesk privacy` as an operator runs it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.services import privacy, retention
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import (
    AuditEntry,
    Buyer,
    Case,
    CaseEvent,
    Evidence,
    Offer,
    Order,
    Refund,
    TranscriptEntry,
)
from tests.desk import TEST_SHOP, Desk
from tests.test_cli import returndesk
from tests.test_report import seed_november, utc
from tests.test_retention import PHOTO, add_personal_rows, kept, rows

ANNA, IVAN = 101, 102


async def seed(desk: Desk, media: MediaStore) -> None:
    await seed_november(desk)
    await add_personal_rows(desk, media)  # Anna's three cases, Ivan's one, a photo each
    async with desk.db.session() as session, session.begin():
        for actor, detail in ((None, {"from": 555, "to": ANNA}), (None, {"to": 1010})):
            session.add(
                AuditEntry(
                    at=utc("2026-11-06T00:00:00"),
                    actor_id=actor,
                    action="claim.rebound",
                    target="order:1",
                    allowed=True,
                    detail=detail,
                )
            )


async def ledger(db: Database) -> list[tuple[Any, ...]]:
    refunds = [
        (r.order_id, r.case_id, r.amount_minor, r.currency, r.reason, r.status, r.created_at)
        for r in await rows(db, Refund)
    ]
    orders = [(o.id, o.paid_minor, o.refunded_minor) for o in await rows(db, Order)]
    offers = [
        (o.id, o.amount_minor, o.standard_amount_minor, o.status) for o in await rows(db, Offer)
    ]
    return [*refunds, *orders, *offers]


async def test_the_export_holds_everything_about_the_buyer_and_no_one_else(
    desk: Desk, tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path / "media")
    await seed(desk, media)
    async with desk.db.reading() as tx:
        found = await privacy.export(tx, ANNA)
    data = json.loads(privacy.as_json(found.data))

    assert [b["name"] for b in data["buyer"]] == ["Anna"]
    assert {o["buyer_id"] for o in data["orders"]} == {ANNA} and len(data["orders"]) == 2
    assert {c["buyer_id"] for c in data["cases"]} == {ANNA} and len(data["cases"]) == 3
    case_ids = {c["id"] for c in data["cases"]}
    assert {e["case_id"] for e in data["photos"]} == case_ids
    assert len(found.photos) == 3
    files = await privacy.photo_files(media, found.photos)
    assert [content for _, content in files.found] == [PHOTO] * 3
    assert (files.missing, files.elsewhere) == ([], [])
    assert {m["chat_id"] for m in data["messages"]} == {ANNA} and len(data["messages"]) == 9
    assert "call me at +7 900 0" in data["messages"][0]["text"]
    assert sum(r["amount_minor"] for r in data["refunds"]) == 180000
    assert len(data["offers"]) == 4 and len(data["promises"]) == 5
    assert [d["note"] for d in data["decisions"]] == ["too little, I want it all back"]
    assert [e["detail"]["why"] for e in data["case_history"]] == ["too little"] * 3
    # Her own entry, and the one naming her as the new owner of an order; not 1010's.
    assert [(a["actor_id"], a["detail"]) for a in data["audit"]] == [
        (ANNA, {"chat": ANNA}),
        (None, {"from": 555, "to": ANNA}),
    ]
    assert data["set_aside_updates"][0]["data"]["message"]["text"] == "my phone is +7 900"
    assert data["cases"][0]["created_at"].startswith("2026-11-02T10:00:00")


async def test_the_erasure_keeps_the_ledger_and_removes_the_buyers_words_and_name(
    desk: Desk, tmp_path: Path, clock: FakeClock
) -> None:
    media = LocalMediaStore(tmp_path / "media")
    await seed(desk, media)
    whole = await ledger(desk.db)
    ivans_before = [e.text for e in await rows(desk.db, TranscriptEntry) if e.chat_id == IVAN]
    now = clock.now()

    async with desk.db.unit() as tx:
        done = await privacy.erase(tx, ANNA, now, by_id=901, by="support:Sam")
    assert (done.cases, done.photos, done.messages, done.audit, done.set_aside) == (3, 3, 9, 2, 1)

    assert await ledger(desk.db) == whole
    buyers = {b.telegram_id: b.name for b in await rows(desk.db, Buyer)}
    assert buyers == {ANNA: "", IVAN: "Иван", 103: "Mallory"} or buyers[ANNA] == ""
    assert buyers[IVAN] == "Иван"
    orders = await rows(desk.db, Order)
    assert all(o.buyer_name == "" for o in orders if o.buyer_id == ANNA)
    cases = await rows(desk.db, Case)
    for case in cases:
        anna = case.buyer_id == ANNA
        assert (case.question is None) is anna and (case.masked_at is not None) is anna
        assert case.reason is not None and case.created_at is not None  # the numbers' columns
    texts = {e.chat_id: e.text for e in await rows(desk.db, TranscriptEntry)}
    assert texts[ANNA] is None
    assert [e.text for e in await rows(desk.db, TranscriptEntry) if e.chat_id == IVAN] == (
        ivans_before
    )
    photos = {p.case_id: p for p in await rows(desk.db, Evidence)}
    annas = {c.id for c in cases if c.buyer_id == ANNA}
    assert all(photos[c].file_id == "" and photos[c].removed_at == now for c in annas)
    assert all(
        e.detail.get("why") is None for e in await rows(desk.db, CaseEvent) if e.case_id in annas
    )
    # Her photos' files go once the erasure is committed; Ivan's stays.
    assert await retention.delete_files(desk.db, media, 10) == retention.Files(deleted=3)
    assert [p.name for p in (tmp_path / "media").iterdir()] == [
        f"photo-{c.id}.jpg" for c in cases if c.buyer_id == IVAN
    ]
    entries = await rows(desk.db, AuditEntry)
    erased = [a for a in entries if a.action == privacy.ERASED]
    assert [(a.actor_id, a.target, a.detail["by"], a.at) for a in erased] == [
        (901, "buyer:101", "support:Sam", now)
    ]
    rebound = [a for a in entries if a.action == "claim.rebound"]
    assert [a.detail for a in rebound] == [{}, {"to": 1010}]

    # Again: nothing more changes, and that run is audited too.
    before = {m: await rows(desk.db, m) for m in (Case, TranscriptEntry, Evidence, Buyer)}
    async with desk.db.unit() as tx:
        again = await privacy.erase(tx, ANNA, now, by_id=901, by="support:Sam")
    assert again.changed == 0
    for model, earlier in before.items():
        assert [_values(r) for r in await rows(desk.db, model)] == [_values(r) for r in earlier]
    assert len([a for a in await rows(desk.db, AuditEntry) if a.action == privacy.ERASED]) == 2
    assert await ledger(desk.db) == whole


@pytest.mark.parametrize("store", ["database", "s3"], indirect=True)
async def test_the_export_reads_and_the_erasure_deletes_the_photos_in_the_store(
    desk: Desk, store: MediaStore, clock: FakeClock
) -> None:
    """With RETURNDESK_MEDIA_BACKEND=database or s3, where the rows name `database:KEY` or
    `s3://BUCKET/KEY` rather than a file."""
    await seed(desk, store)
    cases = await rows(desk.db, Case)
    annas = [f"photo-{c.id}" for c in cases if c.buyer_id == ANNA]
    ivans = [f"photo-{c.id}" for c in cases if c.buyer_id == IVAN]
    async with desk.db.reading() as tx:
        found = await privacy.export(tx, ANNA)
    files = await privacy.photo_files(store, found.photos)
    assert [(p.stored_path, content) for p, content in files.found] == [
        (store.where(key), PHOTO) for key in annas
    ]
    assert (files.missing, files.elsewhere) == ([], [])

    async with desk.db.unit() as tx:
        await privacy.erase(tx, ANNA, clock.now(), by_id=None, by="cli:test")
    # Two a turn: the second turn finds the third.
    assert await retention.delete_files(desk.db, store, 2) == retention.Files(deleted=3)
    assert await kept(store, annas + ivans) == ivans
    async with desk.db.reading() as tx:
        again = await privacy.export(tx, ANNA)
    assert again.photos == []


def _values(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


@asynccontextmanager
async def cli_store(
    kind: str, url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[MediaStore, dict[str, str]]]:
    """A store of `kind` on the command's database, and the settings that choose it."""
    if kind == "local":  # the default folder, `media`, relative to where the command runs
        yield LocalMediaStore(tmp_path / "media"), {}
        return
    if kind == "database":
        db = Database(url)
        try:
            yield DatabaseMediaStore(db), {"RETURNDESK_MEDIA_BACKEND": "database"}
        finally:
            await db.dispose()
        return
    from tests.media_servers import new_bucket, s3_environment

    bucket = await new_bucket(request.getfixturevalue("s3_endpoint"))
    try:
        yield bucket, s3_environment(bucket)
    finally:
        await bucket.close()


async def cli_desk(tmp_path: Path, media: MediaStore | None = None) -> str:
    """The seeded database of the command-line tests, on a file; its URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    await db.upgrade()
    desk = await Desk.open(db, FakeClock(utc("2026-11-20T00:00:00")), tmp_path)
    try:
        await seed(desk, media or LocalMediaStore(tmp_path / "media"))
    finally:
        await desk.close()
    return url


@pytest.mark.parametrize("kind", ["local", "database", "s3"])
async def test_privacy_export_and_erase_from_the_command_line(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """With the photos in each store RETURNDESK_MEDIA_BACKEND names: the export holds them
    and the erasure deletes them there."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    async with cli_store(kind, url, tmp_path, request) as (media, media_env):
        await cli_desk(tmp_path, media)
        env = {"RETURNDESK_DATABASE_URL": url, "RETURNDESK_CONFIG": str(TEST_SHOP), **media_env}
        photos = [e.stored_path for e in await rows_of(url, Evidence)]
        assert photos == [media.where(key) for key in ("photo-1", "photo-2", "photo-3", "photo-4")]

        out = tmp_path / "anna.zip"
        exported = returndesk(
            "privacy", "export", "--buyer", "101", "--out", str(out), cwd=tmp_path, env=env
        )
        assert exported.returncode == 0, exported.stderr
        assert "3 cases, 9 messages, 2 audit entries" in exported.stdout
        assert "3 photos" in exported.stdout and exported.stderr == ""
        with zipfile.ZipFile(out) as archive:
            names = sorted(archive.namelist())
            data = json.loads(archive.read("data.json"))
            photo = archive.read(names[1])
        assert names[0] == "data.json" and len(names) == 4 and names[1].startswith("photos/")
        assert photo == PHOTO
        assert data["buyer"][0]["name"] == "Anna" and data["photo_files_missing"] == []
        assert data["photo_files_elsewhere"] == []

        erased = returndesk("privacy", "erase", "--buyer", "101", "--yes", cwd=tmp_path, env=env)
        assert erased.returncode == 0, erased.stderr
        assert "3 photos removed" in erased.stdout and erased.stderr == ""
        keys = [f"photo-{n}" for n in range(1, 5)]
        ivans = [f"photo-{e.case_id}" for e in await rows_of(url, Evidence) if e.file_id]
        assert len(ivans) == 1
        assert await kept(media, keys) == ivans  # Anna's three deleted in the store


async def rows_of(url: str, model: Any) -> list[Any]:
    db = Database(url)
    try:
        return await rows(db, model)
    finally:
        await db.dispose()


async def test_privacy_on_the_command_line_said_and_refused_as_operators_meet_them(
    tmp_path: Path,
) -> None:
    url = await cli_desk(tmp_path)
    env = {"RETURNDESK_DATABASE_URL": url, "RETURNDESK_CONFIG": str(TEST_SHOP)}
    unknown = returndesk("privacy", "export", "--buyer", "4242", cwd=tmp_path, env=env)
    assert unknown.returncode == 1 and "Nothing is held about Telegram user 4242" in unknown.stderr

    refused = returndesk("privacy", "erase", "--buyer", "101", cwd=tmp_path, env=env, stdin="")
    assert refused.returncode == 2 and "without --yes" in refused.stderr
    erased = returndesk("privacy", "erase", "--buyer", "101", "--yes", cwd=tmp_path, env=env)
    assert erased.returncode == 0, erased.stderr
    assert "Erased Telegram user 101's personal data" in erased.stdout
    assert "3 photos removed" in erased.stdout and "9 message texts removed" in erased.stdout
    assert len(list((tmp_path / "media").iterdir())) == 1  # Ivan's
    again = returndesk("privacy", "erase", "--buyer", "101", "--yes", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "already erased" in again.stdout

    db = Database(url)
    try:
        async with db.session() as session:
            anna = await session.get(Buyer, ANNA)
            assert anna is not None and anna.name == ""
            who = await session.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == privacy.ERASED)
            )
            assert [d["by"].startswith("cli:") for d in who] == [True, True]
    finally:
        await db.dispose()


async def test_photos_another_store_keeps_are_named_by_the_export_and_the_erasure(
    tmp_path: Path,
) -> None:
    """The photos are files, and the operator has since chosen the database store without
    copying them across (docs/operations.md, "Media"): the export and the erasure name the
    files they cannot reach; the erasure run again with the folder deletes them."""
    url = await cli_desk(tmp_path)
    env = {"RETURNDESK_DATABASE_URL": url, "RETURNDESK_CONFIG": str(TEST_SHOP)}
    database = {**env, "RETURNDESK_MEDIA_BACKEND": "database"}
    folder = LocalMediaStore(tmp_path / "media")
    annas = [e.stored_path for e in await rows_of(url, Evidence) if e.case_id != 4][:3]

    out = tmp_path / "anna.zip"
    exported = returndesk(
        "privacy", "export", "--buyer", "101", "--out", str(out), cwd=tmp_path, env=database
    )
    assert exported.returncode == 0, exported.stderr
    assert "and 0 photos" in exported.stdout
    said = " ".join(exported.stderr.split())
    assert "3 photos are kept by another media store than this one" in said
    assert "(RETURNDESK_MEDIA_BACKEND=database) and are not in the zip" in said
    with zipfile.ZipFile(out) as archive:
        data = json.loads(archive.read("data.json"))
        assert archive.namelist() == ["data.json"]
    assert [p["stored_path"] for p in data["photo_files_elsewhere"]] == annas
    assert all(place in exported.stderr for place in annas)

    erased = returndesk("privacy", "erase", "--buyer", "101", "--yes", cwd=tmp_path, env=database)
    assert erased.returncode == 0, erased.stderr
    said = " ".join(erased.stderr.split())
    assert "3 photos are kept by another media store than this one" in said
    assert "were not deleted there" in said and all(place in said for place in annas)
    assert await kept(folder, ["photo-1", "photo-2", "photo-3", "photo-4"]) == [
        "photo-1",
        "photo-2",
        "photo-3",
        "photo-4",
    ]
    assert [e.stored_path for e in await rows_of(url, Evidence) if e.removed_at] == annas

    again = returndesk("privacy", "erase", "--buyer", "101", "--yes", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "already erased" in again.stdout
    assert again.stderr == ""
    assert len(await kept(folder, ["photo-1", "photo-2", "photo-3", "photo-4"])) == 1  # Ivan's
    assert [e.stored_path for e in await rows_of(url, Evidence) if e.removed_at] == [None] * 3
