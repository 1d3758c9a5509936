"""What a statement must tell PostgreSQL's generic plan itself.

The bot's connections run every statement on its generic plan (bot/storage/database.py,
`plan_cache_mode`), planned once for any parameters. A LIMIT sent as a parameter is planned as
a tenth of the rows the rest of the statement finds; for a sweeper's search of the few rows due
among a million that is a parallel scan of the whole range, every sweep, where a plan made for
the batch it really takes reads the index in order and stops (benchmarks/BENCHMARKS.md,
"growth")."""

from __future__ import annotations

from sqlalchemy import ColumnElement, literal


def known_limit(rows: int) -> ColumnElement[int]:
    """`rows` as a LIMIT written into the statement's text, for the plan to count on."""
    return literal(rows, literal_execute=True)
