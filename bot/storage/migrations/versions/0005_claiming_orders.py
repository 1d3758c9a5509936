"""claiming orders: the imported buyer's details, hashed checks, claim attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('claim_attempts',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_claim_attempts_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', 'telegram_id', name=op.f('pk_claim_attempts'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('buyer_language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('buyer_timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('postal_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('link_made_at', sa.DateTime(timezone=True), nullable=True))
    # The default only fills the rows already there; the models give every new row its value.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('buyer_name', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('link_made_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('postal_hash')
        batch_op.drop_column('phone_hash')
        batch_op.drop_column('buyer_timezone')
        batch_op.drop_column('buyer_language')
        batch_op.drop_column('buyer_name')

    op.drop_table('claim_attempts')
