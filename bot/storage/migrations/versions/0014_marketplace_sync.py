"""marketplace sync: orders pulled from Ozon's API (their posting and order numbers, the
marketplace's status, the seller's article), where each seller's pull stands, and the records
set aside

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('marketplace_status', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_order_number'), ['order_number'], unique=False)
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_id', sa.String(length=64), nullable=True))
    op.create_table('marketplace_syncs',
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('marketplace', sa.String(length=32), nullable=False),
    sa.Column('synced_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_marketplace_syncs_seller_id_sellers')),
    sa.PrimaryKeyConstraint('seller_id', 'marketplace', name=op.f('pk_marketplace_syncs'))
    )
    op.create_table('marketplace_rejects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('marketplace', sa.String(length=32), nullable=False),
    sa.Column('record', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_marketplace_rejects_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketplace_rejects')),
    sa.UniqueConstraint('seller_id', 'marketplace', 'record', name=op.f('uq_marketplace_rejects_seller_id'))
    )


def downgrade() -> None:
    op.drop_table('marketplace_rejects')
    op.drop_table('marketplace_syncs')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_column('offer_id')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_order_number'))
        batch_op.drop_column('marketplace_status')
        batch_op.drop_column('order_number')
