"""Writes held to the end of their transaction and made there together (private: services hold
writes through bot.storage.transaction.Transaction).

Most of what an update writes is read by nothing in the same transaction: the case's history,
the case's and the chat's new state, the replies for the outbox, a photo, a decision on an
offer, a promise, a refund. On PostgreSQL every statement is a round trip, and a round trip
costs the bot more CPU than the statement costs the server. So these writes are held in the
session and made just before it commits: on PostgreSQL as one statement, each write a
data-modifying CTE of it; on SQLite (which has no such CTEs, and no round trips) one statement
each.

The writes are held in the session's Transaction (bot/storage/transaction.py), the door the
rest of the bot uses. A held insert is one row; a held update is one row by its key, and a
second update of the same row is merged into the first (two CTEs updating one row would leave
either). A reader that must see held writes calls `write_now` first (naming its tables, it
costs a statement only when a write to one of them is held). The ORM's pending changes are
flushed before the held writes, which may refer to them; a rollback drops what was held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Executable,
    Table,
    and_,
    bindparam,
    event,
    literal_column,
    select,
    union_all,
)
from sqlalchemy import insert as _insert
from sqlalchemy import update as _update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

Rows = dict[str, Any] | list[dict[str, Any]]
# Where a session keeps its transaction's bot.storage.transaction.Transaction (in session.info),
# which keeps the held writes.
TRANSACTION = "transaction"


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a statement of held writes depends on (their values do not)."""

    table: Table
    key: tuple[str, ...]  # the columns a row is updated by; () for an insert
    columns: tuple[str, ...]
    rows: int = 1  # an insert of this many rows


@dataclass(slots=True)
class Write:
    shape: _Shape
    key: tuple[Any, ...]
    values: dict[str, Any]

    def parameters(self, prefix: str) -> dict[str, Any]:
        keys = {f"{prefix}key_{name}": v for name, v in zip(self.shape.key, self.key, strict=True)}
        return keys | {f"{prefix}{name}": self.values[name] for name in self.shape.columns}


def insert(held: list[Write], table: Table, rows: Rows) -> None:
    """INSERT INTO table the rows, before the commit."""
    for row in [rows] if isinstance(rows, dict) else rows:
        held.append(Write(_Shape(table, (), tuple(row)), (), row))


def update(held: list[Write], table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """UPDATE table SET values WHERE key, before the commit."""
    key_names, key_values = tuple(key), tuple(key.values())
    for write in held:
        if write.shape.table is table and write.shape.key == key_names and write.key == key_values:
            write.values |= values
            write.shape = _Shape(table, key_names, tuple(write.values))
            return
    held.append(Write(_Shape(table, key_names, tuple(values)), key_values, dict(values)))


async def write_now(session: AsyncSession, held: list[Write], tables: tuple[Table, ...]) -> None:
    """Make the held writes now, for a reader that must see them: if any are held, or with
    `tables`, if any held write is to one of them."""
    if held and (not tables or any(write.shape.table in tables for write in held)):
        await session.run_sync(_write_held)


def hold_until_commit(session_class: type[Session]) -> None:
    """Make the held writes of every session of `session_class` when it commits."""
    event.listen(session_class, "before_commit", _write_held)
    event.listen(session_class, "after_transaction_end", _forget)


def _write_held(session: Session) -> None:
    tx = session.info.get(TRANSACTION)
    if tx is None or not tx.held:
        return
    held: list[Write] = tx.held
    tx.held = []
    session.flush()  # held writes may refer to rows the unit of work has pending
    connection = session.connection()
    groups = _groups(held)
    if connection.dialect.name != "postgresql" or not _one_statement_keeps_order(groups):
        for shape, writes in groups:
            rows = [write.parameters("") for write in writes]
            connection.execute(_statement(shape, ""), rows if len(rows) > 1 else rows[0])
        return
    parameters: dict[str, Any] = {}
    for n, (_, writes) in enumerate(groups):
        for i, write in enumerate(writes):
            parameters |= write.parameters(f"w{n}_{i}_")
    connection.execute(_together(tuple(shape for shape, _ in groups)), parameters)


def _groups(held: list[Write]) -> list[tuple[_Shape, list[Write]]]:
    """The inserts of one table and columns together, in the order they were held; each
    update on its own (held updates never share a row)."""
    groups: dict[Any, list[Write]] = {}
    for position, write in enumerate(held):
        groups.setdefault(write.shape if not write.shape.key else position, []).append(write)
    return [(replace(writes[0].shape, rows=len(writes)), writes) for writes in groups.values()]


def _one_statement_keeps_order(groups: list[tuple[_Shape, list[Write]]]) -> bool:
    """The database runs a statement's CTEs in no set order, so rows of one table keep the
    order they were held in only when they are one group (the same columns)."""
    tables = [shape.table for shape, _ in groups if not shape.key]
    return len(tables) == len(set(tables))


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: a savepoint's end leaves them held
        session.info.pop(TRANSACTION, None)


@lru_cache(maxsize=512)
def _together(shapes: Sequence[_Shape]) -> Executable:
    """All the writes in one statement: every group but the last is a CTE of the last."""
    *first, last = (_statement(shape, f"w{n}_") for n, shape in enumerate(shapes))
    ctes = [statement.cte(f"w{n}") for n, statement in enumerate(first)]
    return last.add_cte(*ctes)  # type: ignore[no-any-return]


@lru_cache(maxsize=512)
def _statement(shape: _Shape, prefix: str) -> Any:
    """The writes of `shape`, their values bound parameters named `prefix` (and on PostgreSQL a
    row's position) + column, built once. SQLAlchemy keeps the compiled form of such a statement
    for the next one of its shape, which it does not for a multi-row VALUES."""
    table = shape.table

    def value(name: str, row: str = "") -> Any:
        return bindparam(f"{prefix}{row}{name}", type_=table.c[name].type)

    row = "0_" if prefix else ""  # alone, a statement is run once for every row
    if shape.key:
        where = and_(*(table.c[name] == value(name, f"{row}key_") for name in shape.key))
        return (
            _update(table).where(where).values({name: value(name, row) for name in shape.columns})
        )
    if not prefix or shape.rows == 1:
        return _insert(table).values({name: value(name, row) for name in shape.columns})
    # Rows get their ids in the order the SELECT yields them: the order they were held in.
    rows = union_all(
        *(
            select(
                *(value(name, f"{i}_").label(name) for name in shape.columns),
                literal_column(str(i)).label("position"),
            )
            for i in range(shape.rows)
        )
    ).subquery()
    ordered = select(*(rows.c[name] for name in shape.columns)).order_by(rows.c.position)
    return _insert(table).from_select(list(shape.columns), ordered)
