"""Retention of personal data (docs/privacy.md): past each kind's period, message texts and
photos are removed and names masked, while amounts, reasons and dates stay, so the reports
(bot/services/report.py) count the same after a sweep as before.

Each kind is done in batches of `Retention.batch` rows, one transaction each: a sweep never
holds many rows locked nor loads a table, and one that stops halfway leaves every batch it
committed done. What is left to do is found through partial indexes of only the rows not yet
done (bot/storage/models.py), so a sweep does not read again what earlier sweeps removed.

`mask_cases` is shared with the erasure of one buyer (bot/services/privacy.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, select, update

from bot.config.settings import RetentionSettings
from bot.domain.enums import CaseState, Role
from bot.storage.database import Database
from bot.storage.media import MediaStore, key_in
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
    TranscriptEntry,
)
from bot.storage.transaction import Transaction

log = logging.getLogger(__name__)
# What a masked name becomes: the templates already show a buyer without a name by their id.
MASKED = ""
# The keys of a case event's detail that hold what someone typed (bot/services/cases.record):
# dropped when the case is masked. Amounts, reasons, choices and ids stay.
TEXT_KEYS = frozenset({"note", "why", "answer", "tracking", "text", "comment", "question"})
CLOSED = tuple(state for state in CaseState if not state.is_open)
ELSEWHERE_NAMED = 5  # places named in the log line about copies another store keeps


@dataclass(frozen=True)
class Retention:
    """How long each kind is kept; None keeps it for ever."""

    transcripts: timedelta | None = timedelta(days=180)
    photos: timedelta | None = timedelta(days=180)
    audit: timedelta | None = timedelta(days=365)
    closed_cases: timedelta | None = timedelta(days=1095)
    batch: int = 500
    every: timedelta = timedelta(hours=1)  # between the sweeper's retention steps

    @classmethod
    def of(cls, settings: RetentionSettings) -> Retention:
        """From RETURNDESK_RETENTION_*_DAYS, where 0 keeps a kind for ever."""

        def days(n: int) -> timedelta | None:
            return timedelta(days=n) if n else None

        return cls(
            transcripts=days(settings.transcripts_days),
            photos=days(settings.photos_days),
            audit=days(settings.audit_days),
            closed_cases=days(settings.closed_cases_days),
            batch=settings.batch,
            every=timedelta(seconds=settings.every),
        )


@dataclass
class Retained:
    """What one sweep did."""

    texts: int = 0  # transcript entries whose text was removed
    set_aside: int = 0  # updates set aside (dead letters) deleted
    photos: int = 0  # evidence photos removed
    files: int = 0  # downloaded copies deleted
    elsewhere: int = 0  # copies at a place the media store cannot reach, left (delete_files)
    audit: int = 0  # audit entries masked
    cases: int = 0  # closed cases masked
    buyers: int = 0  # buyers whose name was masked

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


async def sweep(db: Database, now: datetime, rules: Retention, media: MediaStore) -> Retained:
    """Everything past its period, batch after batch until none is left; the photos' copies
    are deleted from `media`, the store RETURNDESK_MEDIA_BACKEND names."""
    done = Retained()

    async def repeat(counter: str, step: Callable[[Transaction], Awaitable[int]]) -> None:
        """One batch a transaction until a batch finds nothing, counted in `done.<counter>`."""
        while True:
            async with db.unit() as tx:
                n = await step(tx)
            setattr(done, counter, getattr(done, counter) + n)
            if not n:
                return

    if rules.transcripts is not None:
        before = now - rules.transcripts
        await repeat("texts", lambda tx: remove_texts(tx, before, rules.batch))
        await repeat("set_aside", lambda tx: delete_set_aside(tx, before, rules.batch))
    if rules.photos is not None:
        photos_before = now - rules.photos
        await repeat("photos", lambda tx: remove_photos(tx, photos_before, now, rules.batch))
    if rules.audit is not None:
        audit_before = now - rules.audit
        await repeat("audit", lambda tx: mask_audit(tx, audit_before, now, rules.batch))
    if rules.closed_cases is not None:
        cases_before = now - rules.closed_cases

        async def closed(tx: Transaction) -> int:
            ids = await closed_cases(tx, cases_before, rules.batch)
            if ids:
                done.buyers += await mask_cases(tx, ids, now)
            return len(ids)

        await repeat("cases", closed)
    # Photos removed by this sweep or by an erasure since the last: their copies go now.
    files = await delete_files(db, media, rules.batch)
    done.files, done.elsewhere = files.deleted, len(files.elsewhere)
    if files.elsewhere:
        log.warning(
            "retention: %s removed photos are kept where the media store (%s) cannot reach, "
            "and stay there: %s (docs/privacy.md, a photo kept by another store)",
            len(files.elsewhere),
            media.name,
            ", ".join(files.elsewhere[:ELSEWHERE_NAMED])
            + (", ..." if len(files.elsewhere) > ELSEWHERE_NAMED else ""),
        )
    return done


# -- the kinds, one batch each ------------------------------------------------------------------


async def remove_texts(tx: Transaction, before: datetime, limit: int) -> int:
    ids = select(TranscriptEntry.id).where(
        TranscriptEntry.text.is_not(None), TranscriptEntry.at < before
    )
    return await _set(tx, TranscriptEntry, ids.order_by(TranscriptEntry.at).limit(limit), text=None)


async def delete_set_aside(tx: Transaction, before: datetime, limit: int) -> int:
    """Updates set aside hold the raw update, words and name included."""
    ids = list(
        await tx.session.scalars(
            select(DeadLetter.id)
            .where(DeadLetter.set_aside_at < before)
            .order_by(DeadLetter.id)
            .limit(limit)
        )
    )
    if ids:
        await tx.session.execute(delete(DeadLetter).where(DeadLetter.id.in_(ids)))
    return len(ids)


async def remove_photos(tx: Transaction, before: datetime, now: datetime, limit: int) -> int:
    ids = select(Evidence.id).where(Evidence.removed_at.is_(None), Evidence.created_at < before)
    return await remove_evidence(tx, ids.order_by(Evidence.created_at).limit(limit), now)


async def remove_evidence(tx: Transaction, ids: Any, now: datetime) -> int:
    """Telegram's file ids (with them the photo could be fetched again) and the caption go at
    once; the downloaded copy is deleted by `delete_files`, after the commit says so."""
    return await _set(
        tx, Evidence, ids, file_id="", file_unique_id="", caption=None, removed_at=now
    )


@dataclass
class Files:
    """What `delete_files` did."""

    deleted: int = 0  # copies deleted, their rows' stored_path cleared
    elsewhere: list[str] = field(default_factory=list)  # stored_paths left: another store's


async def delete_files(db: Database, media: MediaStore, limit: int) -> Files:
    """Delete from `media` the copy of every photo removed (by retention or an erasure, once
    committed), `limit` rows a turn, and clear each row's stored_path after its copy is gone.

    A stored_path another store named (the operator changed RETURNDESK_MEDIA_BACKEND, its
    folder or its bucket since) is a place this process cannot reach: the copy under its key
    in `media` is deleted all the same (a move copies photos under the same keys,
    docs/operations.md), the row keeps its stored_path, and it is returned in `elsewhere` for
    the caller to name. Each later call names it again, until a run set up with that store
    deletes it (docs/privacy.md). The store is called outside any transaction: the database
    store writes in one of its own."""
    done = Files()
    after = 0
    while True:
        async with db.reading() as tx:
            rows = list(
                await tx.session.execute(
                    select(Evidence.id, Evidence.stored_path)
                    .where(
                        Evidence.removed_at.is_not(None),
                        Evidence.stored_path.is_not(None),
                        Evidence.id > after,
                    )
                    .order_by(Evidence.id)
                    .limit(limit)
                )
            )
        if not rows:
            return done
        after = rows[-1][0]
        cleared = []
        for row_id, stored_path in rows:
            path = str(stored_path)  # the query's condition: never NULL
            if (key := key_in(path)) is not None:
                await media.delete(key)
            if media.keeps(path):
                cleared.append(row_id)
            else:
                done.elsewhere.append(path)
        async with db.unit() as tx:
            done.deleted += await _set(tx, Evidence, cleared, stored_path=None)


async def mask_audit(tx: Transaction, before: datetime, now: datetime, limit: int) -> int:
    ids = select(AuditEntry.id).where(AuditEntry.masked_at.is_(None), AuditEntry.at < before)
    return await mask_audit_rows(tx, ids.order_by(AuditEntry.at).limit(limit), now)


async def mask_audit_rows(tx: Transaction, ids: Any, now: datetime) -> int:
    """Who, what they typed and the details go; what was tried, whether it was allowed and
    when stay."""
    return await _set(tx, AuditEntry, ids, actor_id=None, target=None, detail={}, masked_at=now)


async def closed_cases(tx: Transaction, before: datetime, limit: int) -> list[int]:
    return list(
        await tx.session.scalars(
            select(Case.id)
            .where(
                Case.masked_at.is_(None),
                Case.closed_at.is_not(None),
                Case.closed_at < before,
                Case.state.in_(CLOSED),  # a reopened case keeps its old closed_at
            )
            .order_by(Case.closed_at)
            .limit(limit)
        )
    )


async def mask_cases(tx: Transaction, case_ids: Sequence[int], now: datetime) -> int:
    """Mask what was typed in these cases and the buyer's name on their offers; then the name
    of each of their buyers none of whose cases is left unmasked. Returns those buyers."""
    if not case_ids:
        return 0
    await _set(
        tx,
        Case,
        case_ids,
        question=None,
        rating_comment=None,
        return_tracking=None,
        reship_tracking=None,
        masked_at=now,
    )
    events = await tx.session.execute(
        select(CaseEvent.id, CaseEvent.detail).where(CaseEvent.case_id.in_(case_ids))
    )
    for event_id, detail in list(events):
        if TEXT_KEYS & set(detail or {}):
            kept = {k: v for k, v in detail.items() if k not in TEXT_KEYS}
            await _set(tx, CaseEvent, [event_id], detail=kept)
    offers = select(Offer.id).where(Offer.case_id.in_(case_ids))
    await tx.session.execute(
        update(Decision)
        .where(
            Decision.offer_id.in_(offers),
            Decision.actor_role == Role.BUYER,
            Decision.note.is_not(None),
        )
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    buyer_of_offer = select(Case.buyer_id).where(Case.id == Offer.case_id).scalar_subquery()
    await tx.session.execute(
        update(Offer)
        .where(Offer.case_id.in_(case_ids), Offer.decided_by_id == buyer_of_offer)
        .values(decided_by_name=MASKED)
        .execution_options(synchronize_session=False)
    )
    buyers = select(Case.buyer_id).where(Case.id.in_(case_ids)).distinct()
    unmasked = exists().where(Case.buyer_id == Buyer.telegram_id, Case.masked_at.is_(None))
    done = list(
        await tx.session.scalars(
            select(Buyer.telegram_id).where(Buyer.telegram_id.in_(buyers), ~unmasked)
        )
    )
    await mask_buyers(tx, done)
    return len(done)


async def mask_buyers(tx: Transaction, buyer_ids: Sequence[int]) -> None:
    """The buyer's name on their profile and their orders, and the hashed phone and postal
    code an import gave (only a claim needs them, and these orders are claimed)."""
    if not buyer_ids:
        return
    await tx.session.execute(
        update(Buyer)
        .where(Buyer.telegram_id.in_(buyer_ids))
        .values(name=MASKED)
        .execution_options(synchronize_session=False)
    )
    await tx.session.execute(
        update(Order)
        .where(Order.buyer_id.in_(buyer_ids))
        .values(buyer_name=MASKED, phone_hash=None, postal_hash=None)
        .execution_options(synchronize_session=False)
    )


async def _set(tx: Transaction, model: Any, ids: Any, **values: Any) -> int:
    """UPDATE the rows whose id is among `ids` (a list, or a SELECT of ids); how many."""
    if isinstance(ids, list | tuple) and not ids:
        return 0
    result = await tx.session.execute(
        update(model)
        .where(and_(model.id.in_(ids)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
