"""Cases and their history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.enums import CaseKind, CaseState, PromiseState, RefundStatus, Role
from bot.domain.money import Money
from bot.domain.offers import EarlierRequest
from bot.engine.events import Photo
from bot.services.promises import OWED
from bot.storage.models import (
    Buyer,
    Case,
    CaseEvent,
    Evidence,
    Offer,
    Order,
    Promise,
    Refund,
)
from bot.storage.transaction import Transaction

CASES = cast(Table, Case.__table__)
REFUNDS = cast(Table, Refund.__table__)
CASE_EVENTS = cast(Table, CaseEvent.__table__)
EVIDENCE = cast(Table, Evidence.__table__)
_EVIDENCE = (
    select(EVIDENCE.c.file_id, EVIDENCE.c.file_unique_id, EVIDENCE.c.size, EVIDENCE.c.stored_path)
    .where(EVIDENCE.c.case_id == bindparam("case"))
    .order_by(EVIDENCE.c.id)
)
_ENDED = (CaseState.RESOLVED, CaseState.CLOSED)
_OPEN_CASE_OF = (
    select(Case.id)
    .where(Case.order_id == bindparam("order"), Case.state.not_in(_ENDED))
    .order_by(Case.id.desc())
    .limit(1)
)
# Built once: the case with its order, buyer and the order's items joined in, one statement,
# and whether it has photos (most cases being described have none yet: then evidence_of needs no
# statement of its own).
# FOR NO KEY UPDATE (`key_share`), as every row lock ReturnDesk takes (docs/locking.md): it
# excludes every other update of the case, but not the key-share lock that a row referring to
# the case (a transcript entry, a step of its history, an offer) takes as it is inserted.
_LOCKING = (
    select(Case, exists().where(EVIDENCE.c.case_id == Case.id))
    .options(joinedload(Case.order).joinedload(Order.items))
    .with_for_update(of=Case, key_share=True)
    .execution_options(populate_existing=True)
)
_LOCK_CASE = _LOCKING.where(Case.id == bindparam("case"))
_CASE_OF_OFFER = select(Offer.case_id).where(Offer.id == bindparam("offer"))
_LOCK_CASE_OF_OFFER = _LOCKING.where(Case.id == _CASE_OF_OFFER.scalar_subquery())
_LOCK_OPEN_CASE_OF = _LOCKING.where(Case.id == _OPEN_CASE_OF.scalar_subquery())

# States in which the buyer is still describing the case: a new request may replace it.
DRAFT_STATES = (
    CaseState.REASON,
    CaseState.ITEM,
    CaseState.QUANTITY,
    CaseState.WANT,
    CaseState.QUESTION,
    CaseState.CONDITION,
    CaseState.EVIDENCE,
    CaseState.CANCEL_CONFIRM,
)


async def lock_case(tx: Transaction, case_id: int) -> Case | None:
    """The case row, locked until the update's transaction ends (a no-op lock on SQLite, whose
    transactions are already serial). Locked once per transaction: a second call (an
    interceptor, then the handler) takes the row this transaction already holds.

    Lock order (docs/locking.md): the update's own chat row (bot.storage.stores.chat_state),
    then the sender's buyer row if it changes, then this case, and only then the case's offers,
    its promises, its order's refund total and its refunds. An update locks at most one case."""
    locked = _locked(tx)
    if case_id in locked:
        return locked[case_id]
    return _kept(tx, (await tx.session.execute(_LOCK_CASE, {"case": case_id})).unique().first())


async def lock_case_of_offer(tx: Transaction, offer_id: int) -> Case | None:
    """The case an offer is on, locked as `lock_case` does: a handler that acts on an offer
    locks its case first and the offer after (bot.services.offers.lock), in the order every
    update locks in. None when there is no such offer."""
    return await _lock_found(tx, _CASE_OF_OFFER, _LOCK_CASE_OF_OFFER, {"offer": offer_id})


async def _lock_found(
    tx: Transaction, finding: Select[int], locking: Any, keys: dict[str, Any]
) -> Case | None:
    """The case `finding` finds, locked as `lock_case` does: by `locking`, the same search
    and the lock in one statement."""
    if _locked(tx):
        # A case is locked already (an interceptor's): reading it again here would overwrite
        # what the update has changed in it since.
        case_id = await tx.session.scalar(finding, keys)
        return await lock_case(tx, case_id) if case_id is not None else None
    return _kept(tx, (await tx.session.execute(locking, keys)).unique().first())


def _locked(tx: Transaction) -> dict[int, Case]:
    return tx.locked(Case)


def _kept(tx: Transaction, row: Any) -> Case | None:
    if row is None:
        return None
    case: Case = row[0]
    has_photos: bool = row[1]
    tx.locked(Case)[case.id] = case
    if not has_photos:
        tx.kept.setdefault(_evidence(case.id), [])
    return case


async def open_case_of(tx: Transaction, order_id: int) -> Case | None:
    """The order's newest case still open, locked as `lock_case` does: the caller may escalate
    or close it, and must see what another update did to it first (docs/locking.md)."""
    case = await _lock_found(tx, _OPEN_CASE_OF, _LOCK_OPEN_CASE_OF, {"order": order_id})
    # It was found open before the lock was granted; whoever held the lock may have ended it.
    return None if case is None or case.state in _ENDED else case


async def open_case(
    tx: Transaction, order: Order, kind: CaseKind, state: CaseState, now: datetime
) -> Case:
    # Loaded now: messages about the case name its buyer, and a new case has no row to join.
    # None: a case a marketplace opened for a buyer not in Telegram (docs/ozon.md).
    buyer = await tx.session.get(Buyer, order.buyer_id) if order.buyer_id is not None else None
    case = Case(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        kind=kind,
        state=state,
        created_at=now,
        updated_at=now,
        buyer_declines=0,
    )
    set_committed_value(case, "order", order)
    set_committed_value(case, "buyer", buyer)
    tx.session.add(case)
    return case


def move(case: Case, state: CaseState | None, now: datetime) -> None:
    """Put the case in `state` (None: where it is) as of `now`: the one way a case changes state
    (tests/test_storage_door.py fails on any other), so that its closing time and last change
    always go with it.

    Only values that differ are assigned: the ORM counts any assignment as a change, and a
    change that writes nothing still costs a flush."""
    if state is not None and case.state is not state:
        case.state = state
        if not state.is_open:
            case.closed_at = now
    if case.updated_at != now:
        case.updated_at = now


async def record(
    tx: Transaction,
    case: Case,
    now: datetime,
    action: str,
    *,
    role: Role,
    actor_id: int | None,
    **detail: Any,
) -> None:
    """Write one step of the case's history (a step that changes the case's state follows
    `move`, the one way it changes)."""
    if case.id is None:
        await tx.session.flush()  # a new case needs its id before its history can refer to it
    tx.insert_later(
        CASE_EVENTS,
        {
            "case_id": case.id,
            "at": now,
            "actor_role": role,
            "actor_id": actor_id,
            "action": action,
            "detail": {k: v if isinstance(v, int | bool) else str(v) for k, v in detail.items()},
        },
    )


async def add_evidence(
    tx: Transaction, case_id: int, photo: Photo, caption: str | None, now: datetime
) -> None:
    """Held for the commit; evidence_of counts it from then on, in this transaction."""
    tx.insert_later(
        EVIDENCE,
        {
            "case_id": case_id,
            "file_id": photo.file_id,
            "file_unique_id": photo.file_unique_id,
            "size": photo.size,
            "stored_path": photo.stored_path,
            "caption": caption,
            "created_at": now,
        },
    )
    (await _kept_evidence(tx, case_id)).append(photo)


async def evidence_of(tx: Transaction, case_id: int) -> list[Photo]:
    """The case's photos, oldest first."""
    return list(await _kept_evidence(tx, case_id))


async def _kept_evidence(tx: Transaction, case_id: int) -> list[Photo]:
    """Read once a transaction (an update that takes a photo asks again for the count), on the
    connection, without flushing the session first; then kept, with the photos add_evidence
    has held since."""
    kept = tx.kept
    photos: list[Photo] | None = kept.get(_evidence(case_id))
    if photos is None:
        connection = await tx.session.connection()
        rows = await connection.execute(_EVIDENCE, {"case": case_id})
        photos = kept[_evidence(case_id)] = [Photo(*row) for row in rows]
    return photos


def _evidence(case_id: int) -> tuple[str, int]:
    """Where the case's photos are kept for the rest of the transaction."""
    return ("evidence", case_id)


async def history_of(tx: Transaction, case_id: int) -> list[CaseEvent]:
    # This update's own steps, held for the commit.
    await tx.write_now(CASE_EVENTS)
    rows = await tx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    return list(rows)


# What each case refunded (approved or sent; a failed payment gave nothing back), and when.
_REFUNDED = (
    select(
        Refund.case_id,
        func.sum(Refund.amount_minor).label("minor"),
        func.max(Refund.approved_at).label("at"),
    )
    .where(Refund.status != RefundStatus.FAILED)
    .group_by(Refund.case_id)
    .subquery()
)


async def earlier_requests(tx: Transaction, case: Case) -> tuple[EarlierRequest, ...]:
    """The other cases on the same order item (any case of the order, for a case about the
    whole order) that are still open or refunded money, oldest first: the fact that makes a
    request a repeat, which the policy never approves by itself (bot.domain.offers)."""
    # A refund this update approved is held for the commit.
    await tx.write_now(REFUNDS)
    same = [Case.order_id == case.order_id, Case.id != case.id]
    if case.item_id is not None:
        same.append(Case.item_id == case.item_id)
    rows = await tx.session.execute(
        select(
            Case.id,
            Case.created_at,
            Case.state,
            Case.item_id,
            Case.quantity,
            _REFUNDED.c.minor,
            _REFUNDED.c.at,
        )
        .outerjoin(_REFUNDED, _REFUNDED.c.case_id == Case.id)
        .where(*same)
        .order_by(Case.id)
    )
    order = case.order
    found = []
    for case_id, opened_at, state, item_id, quantity, minor, at in rows:
        if not state.is_open and not minor:
            continue
        refunded = Money.from_minor(minor, order.currency) if minor else None
        value = order.value_of(order.item(item_id), quantity).minor
        share = (Decimal(minor * 100) / value).quantize(Decimal(1)) if minor and value else None
        found.append(EarlierRequest(case_id, opened_at, state.is_open, refunded, at, share))
    return tuple(found)


async def latest_resolved_of_buyer(tx: Transaction, buyer_id: int) -> int | None:
    """The id of the buyer's most recently resolved case (docs/aftersales.md)."""
    return await tx.session.scalar(
        select(Case.id)
        .where(Case.buyer_id == buyer_id, Case.state == CaseState.RESOLVED)
        .order_by(Case.closed_at.desc(), Case.id.desc())
        .limit(1)
    )


async def latest_case_id_of_buyer(tx: Transaction, buyer_id: int) -> int | None:
    """The id of the buyer's newest case, whatever its state."""
    return await tx.session.scalar(
        select(Case.id).where(Case.buyer_id == buyer_id).order_by(Case.id.desc())
    )


# A case waiting for its seller: a decision, an answer, an inspection, or what was agreed.
WAITING_FOR_SELLER = (CaseState.AWAITING_SELLER, CaseState.RETURN_IN_TRANSIT, CaseState.EXECUTING)


async def waiting_for_sellers(
    tx: Transaction, seller_ids: Iterable[str], *, limit: int
) -> list[Case]:
    """The sellers' cases with an open promise that is theirs to keep, soonest due first, each
    once: those waiting for a decision, an answer or an inspection, and any with a refund or
    shipment agreed, whatever the case is doing now. At most `limit` promises are read."""
    due = (
        select(Promise.case_id, Promise.due_at, Promise.kind)
        .where(Promise.state == PromiseState.OPEN)
        .subquery()
    )
    rows = await tx.session.scalars(
        select(Case)
        .join(due, due.c.case_id == Case.id)
        .where(
            Case.seller_id.in_(list(seller_ids)),
            or_(Case.state.in_(WAITING_FOR_SELLER), due.c.kind.in_(sorted(OWED))),
        )
        .order_by(due.c.due_at, Case.id)
        .limit(limit)
    )
    return list(dict.fromkeys(rows.unique()))  # a case with two promises once


async def escalated_with_due(tx: Transaction, *, limit: int) -> list[tuple[Case, datetime | None]]:
    """Cases with support, each with when support's open promise on it falls due, the most
    urgent first (those without one last)."""
    due = (
        select(Promise.case_id, Promise.due_at)
        .where(Promise.state == PromiseState.OPEN, Promise.owner_role == Role.SUPPORT)
        .subquery()
    )
    rows = await tx.session.execute(
        select(Case, due.c.due_at)
        .outerjoin(due, due.c.case_id == Case.id)
        .where(Case.state == CaseState.ESCALATED)
        .order_by(due.c.due_at.is_(None), due.c.due_at, Case.id)
        .limit(limit)
    )
    return [(case, due_at) for case, due_at in rows.all()]


async def open_cases_of_buyer(tx: Transaction, buyer_id: int, *, limit: int = 5) -> list[Case]:
    """The buyer's newest open cases with their orders, for "where is my refund" (not locked:
    they are only told)."""
    rows = await tx.session.scalars(
        select(Case)
        .options(joinedload(Case.order).joinedload(Order.items))
        .where(Case.buyer_id == buyer_id, Case.state.not_in(_ENDED))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list(rows.unique())
