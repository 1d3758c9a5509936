"""rate budgets: Telegram's limits shared by every sender of the bot (docs/sender.md#limits)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_budgets',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_rate_budgets'))
    )


def downgrade() -> None:
    op.drop_table('rate_budgets')
