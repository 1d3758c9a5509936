"""personal data: cases.masked_at, evidence.removed_at, audit.masked_at, and the partial indexes
the retention sweep reads (docs/privacy.md)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
PARTIAL = (
    ('ix_cases_to_mask', 'cases', 'closed_at', 'masked_at IS NULL AND closed_at IS NOT NULL'),
    ('ix_evidence_to_remove', 'evidence', 'created_at', 'removed_at IS NULL'),
    ('ix_evidence_files_left', 'evidence', 'id', 'removed_at IS NOT NULL AND stored_path IS NOT NULL'),
    ('ix_transcript_texts', 'transcript', 'at', 'text IS NOT NULL'),
    ('ix_audit_to_mask', 'audit', 'at', 'masked_at IS NULL'),
)


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('masked_at', WHEN, nullable=True))
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', WHEN, nullable=True))
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('masked_at', WHEN, nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_target'), ['target'], unique=False)
    for name, table, column, where in PARTIAL:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, table, _column, _where in reversed(PARTIAL):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_target'))
        batch_op.drop_column('masked_at')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('masked_at')
