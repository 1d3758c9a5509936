"""The audit log: who tried what, allowed or refused, one appended row each.

It lives in storage, not among the services, because the engine writes it (every refusal of
every update, bot/engine/processor.py) and the engine sits below the services in the layers
(pyproject.toml, docs/design.md); handlers write and read it too. It holds no rule of the
business, only the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.storage.models import AuditEntry
from bot.storage.transaction import Transaction


def record(
    tx: Transaction,
    now: datetime,
    *,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    allowed: bool = False,
    detail: dict[str, Any] | None = None,
) -> None:
    tx.session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            target=target,
            allowed=allowed,
            detail=detail or {},
        )
    )


async def recent(
    tx: Transaction, *, actor_id: int, action: str, since: datetime
) -> list[AuditEntry]:
    """The person's entries of `action` made after `since`, oldest first."""
    rows = await tx.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.actor_id == actor_id,
            AuditEntry.action == action,
            AuditEntry.at > since,
        )
        .order_by(AuditEntry.id)
    )
    return list(rows)
