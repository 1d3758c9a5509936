"""Rows that are only ever appended: a case's history, its evidence, decisions on offers, the
outbox. They go straight to the transaction's connection, because a statement run through the
session first flushes every pending change of the unit of work (SQLAlchemy does that for any
statement), and these rows depend on none of them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

Rows = dict[str, Any] | list[dict[str, Any]]


async def append(session: AsyncSession, table: Table, rows: Rows) -> None:
    # One hop into SQLAlchemy's synchronous side instead of two (connection, then execute).
    await session.run_sync(_append, _insert(table), rows)


def _append(session: Session, statement: Insert, rows: Rows) -> None:
    session.connection().execute(statement, rows)


@cache
def _insert(table: Table) -> Insert:
    return insert(table)
