"""INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_ignore(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any] | list[dict[str, Any]],
) -> bool:
    """Insert a row (or several) unless its primary key exists; True when this call inserted
    one.

    Under concurrency the loser waits for the winner's commit and then inserts nothing, which
    is what makes "claim this update id" and "create this chat's row" safe in parallel."""
    statement = _statement(model, session.get_bind().dialect.name)
    result = await session.execute(statement, values)
    return bool(getattr(result, "rowcount", 0))


@cache
def _statement(model: type[DeclarativeBase], dialect: str) -> Insert:
    # Built once: every update claims its key with it, and building costs more than running.
    table = model.__table__
    assert isinstance(table, Table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
