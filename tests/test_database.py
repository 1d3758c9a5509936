"""The engine's connections, as the database sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.database import Database
from bot.storage.models import Buyer


async def test_postgresql_plans_a_prepared_statement_once_per_connection(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite prepares no statements on a server")
    probe = select(Buyer.name).where(Buyer.telegram_id == bindparam("id"))
    async with db.engine.connect() as connection:
        for buyer in range(3):
            await connection.execute(probe, {"id": buyer})
        plans = (
            await connection.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT buyers.name%'"
                )
            )
        ).all()
    # Without the setting, the first five runs are each planned anew (custom plans).
    assert plans == [(3, 0)]


async def test_a_transaction_takes_the_connection_given_back_last(db: Database) -> None:
    # Two connections in the pool, given back in turn: b first, then a.
    async with db.session() as a:
        first = await _driver_connection(a)
        async with db.session() as b:
            await _driver_connection(b)
    async with db.transaction() as session:
        assert await _driver_connection(session) is first


async def _driver_connection(session: AsyncSession) -> object:
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection
