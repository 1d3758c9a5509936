"""Rows that are only ever appended: a case's history, its evidence, decisions on offers, the
outbox. They go straight to the transaction's connection, because a statement run through the
session first flushes every pending change of the unit of work (SQLAlchemy does that for any
statement), and these rows depend on none of them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def append(
    session: AsyncSession, table: Table, rows: dict[str, Any] | list[dict[str, Any]]
) -> None:
    connection = await session.connection()
    await connection.execute(_insert(table), rows)


@cache
def _insert(table: Table) -> Insert:
    return insert(table)
