"""The engine's connections, as the database sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text

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
