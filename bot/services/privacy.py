"""One buyer's personal data (docs/privacy.md): everything held about them, to export, and
its erasure, which removes or masks it and keeps the ledger's amounts.

A buyer is known by their Telegram id: their profile, the orders they claimed or were imported
with, their cases and all that hangs from them (history, photos, offers and decisions, refunds,
promises), the messages in their chat and about their cases, the updates of theirs set aside,
their attempts to claim orders, and the audit entries that name them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update

from bot.services import retention
from bot.storage import audit
from bot.storage.media import MediaStore, key_in
from bot.storage.models import (
    AuditEntry,
    Buyer,
    Case,
    CaseEvent,
    ClaimAttempt,
    Conversation,
    DeadLetter,
    Decision,
    Evidence,
    Offer,
    Order,
    OrderItem,
    Promise,
    Refund,
    TranscriptEntry,
)
from bot.storage.transaction import Transaction

ERASED = "privacy.erased"
FORGET_ASKED = "privacy.forget_asked"
FORGET_DECLINED = "privacy.forget_declined"


def target(buyer_id: int) -> str:
    """How the audit names the buyer a privacy request is about."""
    return f"buyer:{buyer_id}"


@dataclass(frozen=True)
class Photo:
    evidence_id: int
    stored_path: str


@dataclass
class Export:
    data: dict[str, Any]
    photos: list[Photo]  # the downloaded copies still held


async def known(tx: Transaction, buyer_id: int) -> bool:
    """Whether anything at all is held about the buyer."""
    found = await tx.session.scalar(select(Buyer.telegram_id).where(Buyer.telegram_id == buyer_id))
    return found is not None or bool(await _audit_rows(tx, buyer_id))


async def export(tx: Transaction, buyer_id: int) -> Export:
    """Everything held about the buyer, as rows of plain values (JSON-ready with `as_json`)."""
    case_ids = _case_ids(buyer_id)
    orders = select(Order.id).where(
        or_(
            Order.buyer_id == buyer_id, Order.id.in_(select(Case.order_id).where(case_of(buyer_id)))
        )
    )
    offers = select(Offer.id).where(Offer.case_id.in_(case_ids))
    data: dict[str, Any] = {
        "telegram_id": buyer_id,
        "buyer": await _rows(tx, Buyer, Buyer.telegram_id == buyer_id),
        "orders": await _rows(tx, Order, Order.id.in_(orders)),
        "order_items": await _rows(tx, OrderItem, OrderItem.order_id.in_(orders)),
        "cases": await _rows(tx, Case, Case.id.in_(case_ids)),
        "case_history": await _rows(tx, CaseEvent, CaseEvent.case_id.in_(case_ids)),
        "photos": await _rows(tx, Evidence, Evidence.case_id.in_(case_ids)),
        "offers": await _rows(tx, Offer, Offer.id.in_(offers)),
        "decisions": await _rows(tx, Decision, Decision.offer_id.in_(offers)),
        "refunds": await _rows(tx, Refund, Refund.order_id.in_(orders)),
        "promises": await _rows(tx, Promise, Promise.case_id.in_(case_ids)),
        "messages": await _rows(tx, TranscriptEntry, _transcript_of(buyer_id, case_ids)),
        "claim_attempts": await _rows(tx, ClaimAttempt, ClaimAttempt.telegram_id == buyer_id),
        "conversation": await _rows(tx, Conversation, Conversation.chat_id == buyer_id),
        "set_aside_updates": await _rows(tx, DeadLetter, DeadLetter.chat_id == buyer_id),
        "audit": [_plain(row) for row in await _audit_rows(tx, buyer_id)],
    }
    photos = [
        Photo(int(row["id"]), str(row["stored_path"]))
        for row in data["photos"]
        if row["stored_path"] is not None
    ]
    return Export(data, photos)


@dataclass
class PhotoFiles:
    """The copies of an export's photos, as the media store gave them."""

    found: list[tuple[Photo, bytes]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # evidence ids whose copy is gone
    # Kept at a place another store named (another backend, folder or bucket) and not found
    # under their key in this one: not in the export, and said so.
    elsewhere: list[Photo] = field(default_factory=list)


async def photo_files(media: MediaStore, photos: Sequence[Photo]) -> PhotoFiles:
    """Each photo's copy from `media`, the store RETURNDESK_MEDIA_BACKEND names, by the key in
    its stored_path; one another store wrote is read from this one under the same key (where
    a move copies it, docs/operations.md) and, not found there, is put in `elsewhere`."""
    files = PhotoFiles()
    for photo in photos:
        key = key_in(photo.stored_path)
        content = await media.get(key) if key is not None else None
        if content is not None:
            files.found.append((photo, content))
        elif media.keeps(photo.stored_path):
            files.missing.append(photo.evidence_id)
        else:
            files.elsewhere.append(photo)
    return files


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_value)


@dataclass
class Erased:
    """What one erasure changed; all zeros when an earlier one left nothing to do."""

    cases: int = 0
    photos: int = 0
    messages: int = 0
    audit: int = 0
    set_aside: int = 0
    claim_attempts: int = 0

    @property
    def changed(self) -> int:
        return (
            self.cases
            + self.photos
            + self.messages
            + self.audit
            + self.set_aside
            + self.claim_attempts
        )


async def erase(
    tx: Transaction, buyer_id: int, now: datetime, *, by_id: int | None, by: str
) -> Erased:
    """Remove the buyer's words and photos and mask their name everywhere, keeping the rows
    that carry amounts, reasons and dates (the ledger, offers, promises: the reports' numbers
    and what the seller must keep for its accounts). Audited as `privacy.erased` with who (`by`,
    and `by_id` when a person) and when. Erasing again changes nothing more, and says so.

    Photos are removed at once (their Telegram file ids and captions); their downloaded copies
    are deleted by the next retention sweep, after this commits (bot/services/retention.py)."""
    done = Erased()
    # The buyer's chat first, then their cases: the order an update of theirs locks them in
    # (docs/locking.md), so the two wait for each other at most, never in a circle.
    await tx.session.execute(
        update(Conversation)
        .where(Conversation.chat_id == buyer_id)
        .values(awaiting=None, case_id=None, offer_id=None, data={})
        .execution_options(synchronize_session=False)
    )
    case_ids = list(await tx.session.scalars(_case_ids(buyer_id)))
    unmasked = list(
        await tx.session.scalars(
            select(Case.id).where(Case.id.in_(case_ids), Case.masked_at.is_(None))
        )
    )
    await retention.mask_cases(tx, unmasked, now)
    done.cases = len(unmasked)
    await retention.mask_buyers(tx, [buyer_id])
    photos = select(Evidence.id).where(
        Evidence.case_id.in_(case_ids), Evidence.removed_at.is_(None)
    )
    done.photos = await retention.remove_evidence(tx, photos, now)
    result = await tx.session.execute(
        update(TranscriptEntry)
        .where(_transcript_of(buyer_id, case_ids), TranscriptEntry.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    done.messages = int(getattr(result, "rowcount", 0) or 0)
    mentions = [row.id for row in await _audit_rows(tx, buyer_id) if row.masked_at is None]
    if mentions:
        done.audit = await retention.mask_audit_rows(tx, mentions, now)
    result = await tx.session.execute(delete(DeadLetter).where(DeadLetter.chat_id == buyer_id))
    done.set_aside = int(getattr(result, "rowcount", 0) or 0)
    result = await tx.session.execute(
        delete(ClaimAttempt).where(ClaimAttempt.telegram_id == buyer_id)
    )
    done.claim_attempts = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        tx,
        now,
        actor_id=by_id,
        action=ERASED,
        target=target(buyer_id),
        allowed=True,
        detail={"by": by, "changed": done.changed},
    )
    return done


async def buyer_row(tx: Transaction, buyer_id: int) -> Buyer | None:
    return await tx.session.get(Buyer, buyer_id)


async def last_request(tx: Transaction, buyer_id: int) -> AuditEntry | None:
    """The latest of the buyer's /forget and its answer (asked, erased or declined)."""
    return await tx.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.target == target(buyer_id),
            AuditEntry.action.in_((FORGET_ASKED, ERASED, FORGET_DECLINED)),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


async def summary(tx: Transaction, buyer_id: int) -> tuple[int, int, int]:
    """(orders, cases, of which open) held for the buyer, for the card support confirms."""
    orders = await tx.session.scalar(
        select(func.count()).select_from(Order).where(Order.buyer_id == buyer_id)
    )
    states = list(await tx.session.scalars(select(Case.state).where(Case.buyer_id == buyer_id)))
    return int(orders or 0), len(states), sum(1 for s in states if s.is_open)


def case_of(buyer_id: int) -> Any:
    return Case.buyer_id == buyer_id


def _case_ids(buyer_id: int) -> Any:
    return select(Case.id).where(case_of(buyer_id))


def _transcript_of(buyer_id: int, case_ids: Any) -> Any:
    """Their chat with the bot, what they sent anywhere, and the messages about their cases
    (relayed to support, told to the deciders)."""
    return or_(
        TranscriptEntry.chat_id == buyer_id,
        TranscriptEntry.user_id == buyer_id,
        TranscriptEntry.case_id.in_(case_ids),
    )


async def _audit_rows(tx: Transaction, buyer_id: int) -> list[AuditEntry]:
    """Entries by the buyer, about them, or naming their id in their details. The details are
    searched as text, then checked value by value, so 101 does not find 1010. Erasure records
    are not the buyer's data but the proof of what was done, and are left as they are."""
    needle = f"%{buyer_id}%"
    rows = await tx.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.actor_id == buyer_id,
                AuditEntry.target.like(needle),
                cast(AuditEntry.detail, Text).like(needle),
            ),
            AuditEntry.action.not_in((ERASED,)),
        )
        .order_by(AuditEntry.id)
    )
    return [row for row in rows if _mentions(row, buyer_id)]


def _mentions(row: AuditEntry, buyer_id: int) -> bool:
    if row.actor_id == buyer_id:
        return True
    words = str(row.target or "").replace(":", " ").split()
    if str(buyer_id) in words:
        return True
    return str(buyer_id) in {str(leaf) for leaf in _leaves(row.detail)}


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


async def _rows(tx: Transaction, model: Any, where: Any) -> list[dict[str, Any]]:
    table = model.__table__
    key = next(iter(table.primary_key.columns))
    rows = await tx.session.execute(select(table).where(where).order_by(key))
    return [dict(row._mapping) for row in rows]


def _plain(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def photo_name(photo: Photo) -> str:
    return f"photos/{photo.evidence_id}.jpg"


def erased_counts(done: Erased) -> Sequence[tuple[str, int]]:
    return [
        ("cases masked", done.cases),
        ("photos removed", done.photos),
        ("message texts removed", done.messages),
        ("audit entries masked", done.audit),
        ("set-aside updates deleted", done.set_aside),
        ("claim attempts deleted", done.claim_attempts),
    ]
