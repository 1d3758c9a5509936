"""The transaction an update runs in, as services and handlers see it: one door for what the
storage does to keep an update's statements few (docs/design.md: one transaction per update).

It owns three things that live exactly as long as the database transaction:
- the deferred writes: rows inserted or updated just before the commit, together
  (bot/storage/_held.py says how and why); a reader that must see them calls `write_now`;
- the cache (`kept`): what a service read once and keeps for the rest of the transaction, with
  what it has since held to add to it;
- the locks taken: the rows locked FOR UPDATE so far, by model, so a second lock of the same row
  returns the row already held instead of reading it again over the update's own changes.

Services take it as their first argument, `tx`, and run their SQL on `tx.session`; handlers
pass the update's (`ctx.tx`) along and never hold the session themselves (pyproject.toml forbids
them sqlalchemy). The engine opens one per update; elsewhere `Database.unit()` gives one in its own
transaction (`Database.reading()` one to read through services only).

`Transaction.of(session)` is the session's transaction, made on first use and dropped when the
transaction ends (committed or rolled back).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import _held
from bot.storage.models import Base, Case

M = TypeVar("M", bound=Base)
Rows = _held.Rows
# Rows whose changes `write_changes` holds for the commit instead of leaving them to the unit of
# work: a case changes on most updates, and the unit of work's flush of it costs several times
# the one UPDATE.
_WRITTEN_AT_THE_END: tuple[type[Base], ...] = (Case,)
_WRITABLE = {
    model: frozenset(c.key for c in inspect(model).columns if not c.primary_key)
    for model in _WRITTEN_AT_THE_END
}


class Transaction:
    __slots__ = ("_locks", "held", "kept", "session")

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.held: list[_held.Write] = []  # made as the session commits (bot/storage/_held.py)
        self.kept: dict[Any, Any] = {}
        # Kept here, not only in the session's identity map: that map's references are weak,
        # so a row an interceptor locked could be gone (and read again) by the time the
        # handler asks for it.
        self._locks: dict[type[Base], dict[Any, Any]] = {}

    @classmethod
    def of(cls, session: AsyncSession) -> Transaction:
        """The session's current transaction (made on first use)."""
        info = session.sync_session.info
        tx: Transaction | None = info.get(_held.TRANSACTION)
        if tx is None:
            tx = info[_held.TRANSACTION] = cls(session)
        return tx

    # -- deferred writes ---------------------------------------------------------------------
    def insert_later(self, table: Table, rows: Rows) -> None:
        """INSERT INTO table the rows, just before the commit."""
        _held.insert(self.held, table, rows)

    def update_later(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        """UPDATE table SET values WHERE key, just before the commit (merged with an update of
        the same row held before)."""
        _held.update(self.held, table, key, values)

    async def write_now(self, *tables: Table) -> None:
        """Make the held writes now, for a reader that must see them; with `tables`, only if a
        write to one of them is held (then the statements cost nothing otherwise)."""
        if self.held:
            await _held.write_now(self.session, self.held, tables)

    def write_changes(self) -> None:
        """Hold what the update changed in the cases it loaded for the commit, one UPDATE a
        row, and let the session forget them. Called once the handler is done: the unit of work
        would write the same at the next flush, at several times the statement's cost."""
        session = self.session
        for instance in list(session.dirty):
            writable = _WRITABLE.get(type(instance))
            if writable is None:
                continue
            changed = sorted(writable - inspect(instance).unmodified)
            if changed:
                values = {key: getattr(instance, key) for key in changed}
                table = instance.__table__
                self.update_later(table, {"id": instance.id}, values)
            session.expunge(instance)

    # -- locks -------------------------------------------------------------------------------
    def locked(self, model: type[M]) -> dict[Any, M]:
        """The rows of `model` locked in this transaction so far, by key."""
        locks: dict[Any, M] = self._locks.setdefault(model, {})
        return locks
