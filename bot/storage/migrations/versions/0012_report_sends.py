"""report sends: the monthly reports the sweeper sent, one row a recipient and month

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'report_sends',
        sa.Column('seller_id', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seller_id', 'month', name=op.f('pk_report_sends')),
    )


def downgrade() -> None:
    op.drop_table('report_sends')
