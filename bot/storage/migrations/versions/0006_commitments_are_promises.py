"""commitments are promises

One word for one concept (issue 19): the table of promises made to buyers is renamed, with its
indexes and constraints, so the schema reads as the code and the docs do.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    'ix_{}_case_id': ['case_id'],
    'ix_{}_open_due': ['state', 'due_at'],
    'ix_{}_open_warn': ['state', 'warn_at'],
}
_CONSTRAINTS = ('pk_{}', 'fk_{}_case_id_cases', 'fk_{0}_replaces_id_{0}')


def _rename(old: str, new: str) -> None:
    for name in _INDEXES:
        op.drop_index(name.format(old), table_name=old)
    op.rename_table(old, new)
    for name, columns in _INDEXES.items():
        op.create_index(name.format(new), new, columns, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # SQLite keeps constraint names inside the table's text and never shows them again.
        for name in _CONSTRAINTS:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT {name.format(old)} TO {name.format(new)}')
        op.execute(f'ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq')


def upgrade() -> None:
    _rename('commitments', 'promises')


def downgrade() -> None:
    _rename('promises', 'commitments')
