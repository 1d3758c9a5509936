"""Retention (docs/privacy.md): past each kind's period the sweep removes texts and photos and
masks names; within it nothing changes; amounts, reasons and dates stay, so the monthly report
counts the same figures after a sweep as before."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.enums import OfferStatus, Remedy, Role
from bot.runtime.sweeper import Sweeper
from bot.services.report import Month, Report, month_report
from bot.services.retention import Retention, sweep
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import (
    AuditEntry,
    Buyer,
    Case,
    CaseEvent,
    DeadLetter,
    Decision,
    Evidence,
    Offer,
    Order,
    Refund,
    TranscriptEntry,
)
from tests.desk import Desk
from tests.test_report import seed_november, utc

DAY = timedelta(days=1)
RULES = Retention(
    transcripts=30 * DAY, photos=60 * DAY, audit=90 * DAY, closed_cases=365 * DAY, batch=2
)


PHOTO = b"\xff\xd8 a photo"


async def add_personal_rows(desk: Desk, media: MediaStore) -> dict[str, Any]:
    """Texts, photos, audit entries and a buyer's decline on Acme's November cases, all made on
    2026-11-05 12:00 UTC, with a photo kept in `media` for each case (key photo-CASE_ID)."""
    at = utc("2026-11-05T12:00:00")
    async with desk.db.session() as session:
        case_ids = list(await session.scalars(select(Case.id).order_by(Case.id)))
    for case_id in case_ids:  # before the transaction below: the database store writes its own
        await media.put(f"photo-{case_id}", PHOTO)
    async with desk.db.session() as session, session.begin():
        cases = list(await session.scalars(select(Case).order_by(Case.id)))
        for case in cases:
            session.add(
                Evidence(
                    case_id=case.id,
                    file_id=f"file-{case.id}",
                    file_unique_id=f"unique-{case.id}",
                    size=9,
                    stored_path=media.where(f"photo-{case.id}"),
                    caption="my broken kettle",
                    created_at=at,
                )
            )
            for n in range(3):  # more than a batch
                session.add(
                    TranscriptEntry(
                        at=at,
                        direction="in",
                        chat_id=case.buyer_id,
                        user_id=case.buyer_id,
                        case_id=case.id,
                        text=f"it arrived broken, call me at +7 900 {n}",
                    )
                )
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=at,
                    actor_role=Role.BUYER,
                    actor_id=case.buyer_id,
                    action="declined",
                    detail={"why": "too little", "offer": 1, "reason": "defect"},
                )
            )
            case.question = "Where is my money?"
            case.return_tracking = "RA123456789RU"
        session.add(
            AuditEntry(
                at=at,
                actor_id=101,
                action="buyer.foreign_order",
                target="A-9999 please",
                allowed=False,
                detail={"chat": 101},
            )
        )
        session.add(
            DeadLetter(
                key="u:1",
                bot_id=1,
                update_id=1,
                chat_id=101,
                set_aside_at=at,
                attempts=5,
                error="boom",
                data={"message": {"text": "my phone is +7 900"}},
            )
        )
        offer = await session.scalar(select(Offer).order_by(Offer.id).limit(1))
        assert offer is not None
        buyer_offer = Offer(
            case_id=offer.case_id,
            round=2,
            remedy=Remedy.REFUND,
            amount_minor=100,
            currency="RUB",
            proposed_by_role=Role.SELLER,
            status=OfferStatus.DECLINED,
            created_at=at,
            decided_by_id=101,
            decided_by_name="Anna",
        )
        session.add(buyer_offer)
        await session.flush()
        session.add(
            Decision(
                offer_id=buyer_offer.id,
                actor_role=Role.BUYER,
                actor_id=101,
                action="decline",
                note="too little, I want it all back",
                at=at,
            )
        )
    return {"at": at, "photos": [f"photo-{case_id}" for case_id in case_ids]}


async def kept(media: MediaStore, keys: list[str]) -> list[str]:
    """Those of `keys` whose photo `media` still keeps."""
    return [key for key in keys if await media.exists(key)]


async def rows(db: Database, model: Any) -> list[Any]:
    async with db.session() as session:
        key = model.telegram_id if model is Buyer else model.id
        return list(await session.scalars(select(model).order_by(key)))


async def test_nothing_changes_within_every_period(desk: Desk, tmp_path: Path) -> None:
    await seed_november(desk)
    media = LocalMediaStore(tmp_path / "media")
    seeded = await add_personal_rows(desk, media)
    now = seeded["at"] + 29 * DAY  # inside the shortest period (transcripts: 30 days)
    before = {m: await rows(desk.db, m) for m in (TranscriptEntry, Evidence, AuditEntry)}

    done = await sweep(desk.db, now, RULES, media)

    assert not done
    assert [e.text for e in await rows(desk.db, TranscriptEntry)] == [
        e.text for e in before[TranscriptEntry]
    ]
    assert all(e.removed_at is None and e.file_id for e in await rows(desk.db, Evidence))
    assert await kept(media, seeded["photos"]) == seeded["photos"]
    assert [a.actor_id for a in await rows(desk.db, AuditEntry)] == [101]
    assert len(await rows(desk.db, DeadLetter)) == 1


async def test_each_kind_goes_at_its_own_period(desk: Desk, store: MediaStore) -> None:
    """With the photos in each store: the folder, the database, a bucket."""
    await seed_november(desk)
    seeded = await add_personal_rows(desk, store)
    at = seeded["at"]

    # Day 31: the transcripts' 30 days are past, not the photos' 60.
    done = await sweep(desk.db, at + 31 * DAY, RULES, store)
    assert (done.texts, done.set_aside, done.photos, done.audit, done.cases) == (12, 1, 0, 0, 0)
    assert [e.text for e in await rows(desk.db, TranscriptEntry)] == [None] * 12
    assert await rows(desk.db, DeadLetter) == []
    assert all(e.file_id and e.caption for e in await rows(desk.db, Evidence))

    assert await kept(store, seeded["photos"]) == seeded["photos"]

    # Day 61: the photos go: file ids, captions and the copies in the store; the rows stay.
    done = await sweep(desk.db, at + 61 * DAY, RULES, store)
    assert (done.photos, done.files, done.elsewhere, done.audit) == (4, 4, 0, 0)
    assert await kept(store, seeded["photos"]) == []
    for photo in await rows(desk.db, Evidence):
        assert (photo.file_id, photo.file_unique_id, photo.caption) == ("", "", None)
        assert photo.stored_path is None and photo.removed_at == at + 61 * DAY
        assert photo.created_at == at and photo.size == 9

    # Day 91: the audit entry keeps what was tried, when, and whether it was allowed.
    done = await sweep(desk.db, at + 91 * DAY, RULES, store)
    assert done.audit == 1 and done.cases == 0
    [entry] = await rows(desk.db, AuditEntry)
    assert (entry.actor_id, entry.target, entry.detail) == (None, None, {})
    assert (entry.action, entry.allowed, entry.at) == ("buyer.foreign_order", False, at)

    # The cases closed on 3 and 5 November (and October's) are masked a year after closing;
    # the one still open is not, so Anna's name stays until it closes.
    closed_on = utc("2026-11-05T02:00:00")
    done = await sweep(desk.db, closed_on + 366 * DAY, RULES, store)
    cases = await rows(desk.db, Case)
    masked = [c for c in cases if c.masked_at is not None]
    assert done.cases == len(masked) == 3
    assert all(c.question is None and c.return_tracking is None for c in masked)
    assert all(c.rating_comment is None for c in masked)
    [still_open] = [c for c in cases if c.masked_at is None]
    assert still_open.question == "Where is my money?" and still_open.closed_at is None
    events = {e.case_id: e.detail for e in await rows(desk.db, CaseEvent)}
    assert all(events[c.id] == {"offer": 1, "reason": "defect"} for c in masked)
    assert events[still_open.id]["why"] == "too little"
    buyers = {b.telegram_id: b.name for b in await rows(desk.db, Buyer)}
    assert buyers[101] == "Anna"  # her open case
    assert buyers[102] == ""  # Ivan's only case, October's, is masked
    orders = {o.buyer_id: o.buyer_name for o in await rows(desk.db, Order)}
    assert orders[102] == "" and orders[101] == "Anna"
    # On a masked case the buyer's own name and words on an offer go; the decider's stay.
    names = [o.decided_by_name for o in await rows(desk.db, Offer)]
    assert names == ["Dora", "Dora", "Dora", ""]
    assert [d.note for d in await rows(desk.db, Decision)] == [None]


async def test_the_report_counts_the_same_after_retention(desk: Desk, tmp_path: Path) -> None:
    await seed_november(desk)
    media = LocalMediaStore(tmp_path / "media")
    await add_personal_rows(desk, media)
    async with desk.db.session() as session, session.begin():
        # Close the open case too, so that every name and text of the month is masked.
        [still_open] = await session.scalars(select(Case).where(Case.closed_at.is_(None)))
        still_open.state, still_open.closed_at = "closed", utc("2026-11-20T00:00:00")
    before = await _report(desk.db)
    ledger = [
        (r.amount_minor, r.reason, r.created_at, r.status) for r in await rows(desk.db, Refund)
    ]

    done = await sweep(desk.db, utc("2028-01-01T00:00:00"), RULES, media)
    assert done.cases == 4 and done.buyers == 2

    after = await _report(desk.db)
    assert _figures(after) == _figures(before)
    # Only what named or quoted a person differs: Anna's name, her comment.
    assert [(b.buyer_id, b.cases) for b in after.top_buyers] == [
        (b.buyer_id, b.cases) for b in before.top_buyers
    ]
    assert [b.name for b in before.top_buyers] == ["Anna"]
    assert [b.name for b in after.top_buyers] == [""]
    assert before.satisfaction.lowest and not after.satisfaction.lowest
    assert [
        (r.amount_minor, r.reason, r.created_at, r.status) for r in await rows(desk.db, Refund)
    ] == ledger


async def _report(db: Database) -> Report:
    async with db.reading() as tx:
        return await month_report(tx, Month(2026, 11), seller="acme")


def _figures(report: Report) -> dict[str, Any]:
    """Every number of the report: all but the names and the quoted comments."""
    figures = dataclasses.asdict(report)
    figures.pop("top_buyers")
    figures["satisfaction"].pop("lowest")
    return figures


async def test_the_sweeper_applies_retention_once_an_interval(
    desk: Desk, tmp_path: Path, clock: FakeClock
) -> None:
    await seed_november(desk)
    media = LocalMediaStore(tmp_path / "media")
    seeded = await add_personal_rows(desk, media)
    app = desk.sandbox.app
    sweeper = Sweeper(db=app.db, clock=clock, engine=app.engine)
    assert await sweeper.retain_when_due() is None  # no retention set: nothing is removed
    sweeper.retain(dataclasses.replace(RULES, every=timedelta(hours=1)), media)
    start = seeded["at"] + 60 * DAY - timedelta(minutes=30)  # texts past, photos not yet
    clock.set(start)
    first = await sweeper.retain_when_due()
    assert first is not None and (first.texts, first.photos) == (12, 0)
    clock.set(start + timedelta(minutes=45))  # past the photos' period, within the hour
    assert await sweeper.retain_when_due() is None
    assert all(e.file_id for e in await rows(desk.db, Evidence))
    clock.set(start + timedelta(minutes=61))
    second = await sweeper.retain_when_due()
    assert second is not None and second.photos == 4


async def test_a_photo_another_store_keeps_is_named_and_left_to_that_store(
    desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator moved from the folder to the database store and copied two of the four
    photos across under their keys (docs/operations.md, "Media"); the rows still name the
    files. Retention deletes the copies it reaches, leaves the files, names them, and keeps
    their rows' places; a sweep set up with the folder then deletes them."""
    await seed_november(desk)
    folder = LocalMediaStore(tmp_path / "media")
    seeded = await add_personal_rows(desk, folder)
    database = DatabaseMediaStore(desk.db)
    copied = seeded["photos"][:2]
    for key in copied:
        await database.put(key, PHOTO)
    at = seeded["at"] + 61 * DAY

    with caplog.at_level(logging.WARNING, logger="bot.services.retention"):
        done = await sweep(desk.db, at, RULES, database)
    assert (done.photos, done.files, done.elsewhere) == (4, 0, 4)
    assert await kept(database, copied) == []
    assert await kept(folder, seeded["photos"]) == seeded["photos"]
    places = [e.stored_path for e in await rows(desk.db, Evidence)]
    assert places == [folder.where(key) for key in seeded["photos"]]
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "4 removed photos are kept where the media store (database) cannot reach" in warning
    assert places[0] in warning

    done = await sweep(desk.db, at + DAY, RULES, database)  # named again, not forgotten
    assert (done.files, done.elsewhere) == (0, 4)

    done = await sweep(desk.db, at + DAY, RULES, folder)
    assert (done.files, done.elsewhere) == (4, 0)
    assert await kept(folder, seeded["photos"]) == []
    assert [e.stored_path for e in await rows(desk.db, Evidence)] == [None] * 4
