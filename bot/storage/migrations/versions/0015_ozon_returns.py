"""ozon returns: rFBS returns read from Ozon (each with its case and the seller's decision to
carry out), FBO/FBS returns shown read-only, conditional cancellations; a case may have no
Telegram buyer (one Ozon opened)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('buyer_id', existing_type=sa.BigInteger(), nullable=True)
    op.create_table('ozon_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('scheme', sa.String(length=8), nullable=False),
    sa.Column('ozon_id', sa.BigInteger(), nullable=False),
    sa.Column('posting_number', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('ozon_state', sa.String(length=64), nullable=False),
    sa.Column('ozon_state_name', sa.String(length=200), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('act_id', sa.Integer(), nullable=True),
    sa.Column('act_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('act_comment', sa.Text(), nullable=True),
    sa.Column('act_reason_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('act_status', sa.String(length=16), nullable=True),
    sa.Column('act_error', sa.Text(), nullable=True),
    sa.Column('act_seq', sa.Integer(), nullable=False),
    sa.Column('act_recorded', sa.Boolean(), nullable=False),
    sa.Column('act_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_ozon_returns_seller_id_sellers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_ozon_returns_order_id_orders')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_ozon_returns_case_id_cases')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_ozon_returns_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ozon_returns')),
    sa.UniqueConstraint('seller_id', 'scheme', 'ozon_id', name=op.f('uq_ozon_returns_seller_id'))
    )
    op.create_index(op.f('ix_ozon_returns_case_id'), 'ozon_returns', ['case_id'], unique=False)
    op.create_index(op.f('ix_ozon_returns_act_status'), 'ozon_returns', ['act_status'], unique=False)
    op.create_table('ozon_cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('cancellation_id', sa.BigInteger(), nullable=False),
    sa.Column('posting_number', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('initiator', sa.String(length=32), nullable=False),
    sa.Column('ozon_state', sa.String(length=32), nullable=False),
    sa.Column('auto_approve_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('act_status', sa.String(length=16), nullable=True),
    sa.Column('act_error', sa.Text(), nullable=True),
    sa.Column('act_recorded', sa.Boolean(), nullable=False),
    sa.Column('act_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_ozon_cancellations_seller_id_sellers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_ozon_cancellations_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ozon_cancellations')),
    sa.UniqueConstraint('seller_id', 'cancellation_id', name=op.f('uq_ozon_cancellations_seller_id'))
    )
    op.create_index(op.f('ix_ozon_cancellations_act_status'), 'ozon_cancellations', ['act_status'], unique=False)


def downgrade() -> None:
    op.drop_table('ozon_cancellations')
    op.drop_table('ozon_returns')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('buyer_id', existing_type=sa.BigInteger(), nullable=False)
