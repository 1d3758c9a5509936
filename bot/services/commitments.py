"""Promises to buyers as rows (DESIGN decision 5): who owes what, by when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import CommitmentKind, CommitmentState, Role
from bot.domain.policy import Policy
from bot.storage.models import Case, Commitment

# The owner is reminded when this share of the time to the due time has passed.
WARN_AT_SHARE = 0.75


def due_time(policy: Policy, kind: CommitmentKind, now: datetime) -> datetime:
    return now + policy.target(kind)


async def promise(
    session: AsyncSession,
    case: Case,
    kind: CommitmentKind,
    *,
    policy: Policy,
    now: datetime,
    owner_role: Role = Role.SELLER,
    replaces: Commitment | None = None,
) -> Commitment:
    """Open a promise; an open promise of the same kind on the case is superseded by it."""
    await close(session, case.id, now, kinds=[kind], state=CommitmentState.CLOSED)
    due = due_time(policy, kind, now)
    commitment = Commitment(
        case_id=case.id,
        kind=kind,
        owner_role=owner_role,
        owner_ref=case.seller_id if owner_role is Role.SELLER else "support",
        state=CommitmentState.OPEN,
        created_at=now,
        due_at=due,
        warn_at=now + timedelta(seconds=(due - now).total_seconds() * WARN_AT_SHARE),
        replaces_id=replaces.id if replaces else None,
    )
    session.add(commitment)
    await session.flush()
    return commitment


async def open_commitments(
    session: AsyncSession, case_id: int, kinds: Iterable[CommitmentKind] | None = None
) -> list[Commitment]:
    query = select(Commitment).where(
        Commitment.case_id == case_id, Commitment.state == CommitmentState.OPEN
    )
    if kinds is not None:
        query = query.where(Commitment.kind.in_(list(kinds)))
    return list(await session.scalars(query.order_by(Commitment.id)))


async def close(
    session: AsyncSession,
    case_id: int,
    now: datetime,
    *,
    kinds: Iterable[CommitmentKind] | None = None,
    state: CommitmentState = CommitmentState.KEPT,
) -> list[Commitment]:
    """Mark open promises kept (the owner did what was owed) or closed (no longer owed)."""
    closed = await open_commitments(session, case_id, kinds)
    for commitment in closed:
        commitment.state = state
        commitment.closed_at = now
    return closed


async def keep(
    session: AsyncSession, case_id: int, now: datetime, *kinds: CommitmentKind
) -> list[Commitment]:
    return await close(session, case_id, now, kinds=kinds, state=CommitmentState.KEPT)
