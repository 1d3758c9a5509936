"""report indexes: a seller's cases by opening and by rating, and orders by placing, for the
monthly report's month of one seller (docs/reports.md; benchmarks/BENCHMARKS.md §8)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATED = 'rated_at IS NOT NULL'


def upgrade() -> None:
    op.create_index('ix_cases_seller_created', 'cases', ['seller_id', 'created_at'], unique=False)
    op.create_index(
        'ix_cases_seller_rated',
        'cases',
        ['seller_id', 'rated_at'],
        unique=False,
        sqlite_where=sa.text(RATED),
        postgresql_where=sa.text(RATED),
    )
    op.create_index('ix_orders_seller_placed', 'orders', ['seller_id', 'placed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_seller_placed', table_name='orders')
    op.drop_index('ix_cases_seller_rated', table_name='cases')
    op.drop_index('ix_cases_seller_created', table_name='cases')
