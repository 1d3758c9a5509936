"""delivery: when a shipped reshipment or replacement counts as delivered, and what becomes of
the item a replacement replaces

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('item_settlement', sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_cases_delivery_due_at'), ['delivery_due_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_delivery_due_at'))
        batch_op.drop_column('item_settlement')
        batch_op.drop_column('delivery_due_at')
