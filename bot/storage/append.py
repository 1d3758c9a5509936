"""Rows that are only ever appended (a case's history, its evidence, decisions on offers,
promises, the outbox) and counters kept in SQL (an order's refunded total). They go straight to
the transaction's connection, because a statement run through the session first flushes every
pending change of the unit of work (SQLAlchemy does that for any statement), and these writes
depend on none of them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Executable, Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

Rows = dict[str, Any] | list[dict[str, Any]]


async def append(session: AsyncSession, table: Table, rows: Rows) -> None:
    await write(session, _insert(table), rows)


async def write(session: AsyncSession, statement: Executable, parameters: Rows) -> None:
    """Run a write that no pending change of the session bears on, on its connection."""
    # One hop into SQLAlchemy's synchronous side instead of two (connection, then execute).
    await session.run_sync(_write, statement, parameters)


def _write(session: Session, statement: Executable, parameters: Rows) -> None:
    session.connection().execute(statement, parameters)


@cache
def _insert(table: Table) -> Insert:
    return insert(table)
