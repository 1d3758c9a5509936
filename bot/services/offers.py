"""Offers and the decisions on them: who proposed, approved, changed, refused, accepted,
declined, when and why. A deviation from the policy's standard is recorded as one."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.enums import OfferStatus, Remedy, Role
from bot.domain.money import Money
from bot.domain.offers import StandardOffer
from bot.storage.models import Case, Decision, Offer
from bot.storage.transaction import Transaction

DECISIONS = cast(Table, Decision.__table__)
# The statements an offer's round trip makes on every decision, built once.
_LOCK = (
    select(Offer)
    .where(Offer.id == bindparam("offer"))
    .with_for_update(of=Offer, key_share=True)
    .execution_options(populate_existing=True)
)
_DECIDE = (
    update(Offer)
    .where(Offer.id == bindparam("offer"), Offer.status == bindparam("expected"))
    .values(
        status=bindparam("new_status"),
        decided_at=bindparam("new_decided_at"),
        decided_by_id=bindparam("new_decided_by_id"),
        decided_by_name=bindparam("new_decided_by_name"),
    )
    .execution_options(synchronize_session=False)
)
# Inserted and returned as an entity in one statement, without a flush of the session's other
# changes (which the new row does not depend on) or the unit of work's bookkeeping. Its round is
# counted in the same statement: the case is locked, so no other offer on it comes between.
_INSERT = (
    insert(Offer)
    .values(
        round=select(func.count() + 1)
        .where(Offer.case_id == bindparam("round_of_case"))
        .scalar_subquery()
    )
    .returning(Offer)
    .execution_options(autoflush=False)
)
# An offer nobody has decided yet (waiting for the seller, or for the buyer) dies when a later
# offer on the case replaces it: only the case's current offer can be approved, accepted or
# declined (docs/offers-and-promises.md). Its buttons then find it decided, so they are stale.
UNDECIDED = (OfferStatus.PENDING_SELLER, OfferStatus.OFFERED)
_SUPERSEDE = (
    update(Offer)
    .where(
        Offer.case_id == bindparam("case"),
        Offer.id != bindparam("successor"),
        Offer.status.in_(UNDECIDED),
    )
    .values(status=OfferStatus.SUPERSEDED, decided_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


async def create(
    tx: Transaction,
    case: Case,
    *,
    remedy: Remedy,
    amount: Money | None,
    status: OfferStatus,
    role: Role,
    actor_id: int | None,
    now: datetime,
    standard: StandardOffer | None = None,
    note: str | None = None,
) -> Offer:
    """A new offer on the case, which replaces any earlier one still undecided. Compared with
    `standard` (or with the case's first, standard offer), a different remedy or amount is
    marked as a deviation. The case must be locked (cases.lock_case): then no other offer on it
    comes between."""
    if standard is None:
        first = await tx.session.scalar(
            select(Offer).where(Offer.case_id == case.id).order_by(Offer.id).limit(1)
        )
        standard_remedy = first.standard_remedy if first else None
        standard_minor = first.standard_amount_minor if first else None
    else:
        standard_remedy = standard.remedy
        standard_minor = standard.amount.minor if standard.amount else None
    amount_minor = amount.minor if amount else None
    deviation = standard_remedy is not None and (
        remedy != standard_remedy or amount_minor != standard_minor
    )
    row = {
        "case_id": case.id,
        "round_of_case": case.id,
        "remedy": remedy,
        "amount_minor": amount_minor,
        "currency": case.order.currency,
        "standard_remedy": standard_remedy,
        "standard_amount_minor": standard_minor,
        "deviation": deviation,
        "deviation_note": note if deviation else None,
        "proposed_by_role": role,
        "proposed_by_id": actor_id,
        "status": status,
        "created_at": now,
    }
    new = (await tx.session.scalars(_INSERT, [row])).one()
    if new.round > 1:  # a first offer replaces nothing: no statement for it
        await supersede(tx, case.id, now, successor=new)
    return new


async def supersede(
    tx: Transaction, case_id: int, now: datetime, *, successor: Offer | None = None
) -> None:
    """The case's undecided offers (but `successor`) are dead: a later offer, or an agreement
    reached without one (support's /refund), replaced them. The case must be locked."""
    successor_id = successor.id if successor else 0  # no offer has id 0
    await tx.session.execute(_SUPERSEDE, {"case": case_id, "successor": successor_id, "now": now})
    # The same change on the offers this update already holds, as loaded (SQLAlchemy cannot
    # evaluate the statement's parameters for them); read without loading anything.
    for held in list(tx.session.identity_map.values()):
        loaded = inspect(held).dict
        if (
            isinstance(held, Offer)
            and held is not successor
            and loaded.get("case_id") == case_id
            and loaded.get("status") in UNDECIDED
        ):
            set_committed_value(held, "status", OfferStatus.SUPERSEDED)
            set_committed_value(held, "decided_at", now)


async def lock(tx: Transaction, offer_id: int) -> Offer | None:
    """The offer, its row locked (FOR NO KEY UPDATE) until the transaction ends. Its case must
    be locked first (bot.services.cases.lock_case_of_offer): the order every update locks in,
    docs/locking.md."""
    return await tx.session.scalar(_LOCK, {"offer": offer_id})


async def current(tx: Transaction, case_id: int) -> Offer | None:
    return await tx.session.scalar(
        select(Offer).where(Offer.case_id == case_id).order_by(Offer.id.desc()).limit(1)
    )


async def decide(
    tx: Transaction,
    offer: Offer,
    *,
    expected: OfferStatus,
    status: OfferStatus,
    action: str,
    role: Role,
    actor_id: int | None,
    actor_name: str | None,
    now: datetime,
    amount: Money | None = None,
    note: str | None = None,
) -> bool:
    """Move the offer from `expected` to `status`. Only one decision wins: the update is
    conditional on the status, so a second decider's tap finds it changed and gets False."""
    values = {
        "status": status,
        "decided_at": now,
        "decided_by_id": actor_id,
        "decided_by_name": actor_name,
    }
    result = await tx.session.execute(
        _DECIDE,
        {"offer": offer.id, "expected": expected} | {f"new_{k}": v for k, v in values.items()},
    )
    if not getattr(result, "rowcount", 0):
        await tx.session.refresh(offer)  # someone else decided first: show what they did
        return False
    for name, value in values.items():  # what the row now holds, without reading it back
        set_committed_value(offer, name, value)
    # Held for the commit: decisions_of writes what is held before it reads.
    tx.insert_later(
        DECISIONS,
        {
            "offer_id": offer.id,
            "actor_role": role,
            "actor_id": actor_id,
            "action": action,
            "amount_minor": amount.minor if amount else None,
            "note": note,
            "at": now,
        },
    )
    return True


async def decisions_of(tx: Transaction, case_id: int) -> list[Decision]:
    """Every decision on the case's offers, oldest first."""
    await tx.write_now(DECISIONS)
    rows = await tx.session.scalars(
        select(Decision)
        .join(Offer, Decision.offer_id == Offer.id)
        .where(Offer.case_id == case_id)
        .order_by(Decision.id)
    )
    return list(rows)


async def all_of_case(tx: Transaction, case_id: int) -> list[Offer]:
    """Every offer made on the case, oldest first."""
    return list(
        await tx.session.scalars(select(Offer).where(Offer.case_id == case_id).order_by(Offer.id))
    )
