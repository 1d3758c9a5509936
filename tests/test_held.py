"""Writes held to the commit by the update's Transaction (bot.storage.transaction): made when the
transaction commits, in the order they were held, merged where they update one row, dropped by
a rollback; on PostgreSQL as one statement. What it keeps and the locks it took end with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from bot.clock import FakeClock
from bot.storage.database import Database
from bot.storage.models import Case
from bot.storage.stores.chat_state import CONVERSATIONS
from bot.storage.stores.outbox import OUTBOX
from bot.storage.transaction import Transaction


def _row(clock: FakeClock, text: str, chat_id: int = 101) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "text": text,
        "buttons": [[{"text": "OK", "data": "ok"}]],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": clock.now(),
        "created_at": clock.now(),
    }


async def _outbox(db: Database) -> list[tuple[str, Any]]:
    async with db.session() as session:
        rows = await session.execute(select(OUTBOX.c.text, OUTBOX.c.buttons).order_by(OUTBOX.c.id))
        return [tuple(row) for row in rows]


async def _chat(db: Database, chat_id: int) -> tuple[Any, ...] | None:
    async with db.session() as session:
        query = select(CONVERSATIONS.c.awaiting, CONVERSATIONS.c.data).where(
            CONVERSATIONS.c.chat_id == chat_id
        )
        row = (await session.execute(query)).first()
        return None if row is None else tuple(row)


async def _new_chat(db: Database, clock: FakeClock, chat_id: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(CONVERSATIONS).values(chat_id=chat_id, data={}, updated_at=clock.now())
        )


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(maxsplit=1)[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def test_held_writes_are_made_at_the_commit_in_the_order_they_were_held(
    db: Database, clock: FakeClock
) -> None:
    await _new_chat(db, clock, 101)
    async with db.transaction() as session:
        Transaction.of(session).insert_later(OUTBOX, [_row(clock, "first"), _row(clock, "second")])
        Transaction.of(session).update_later(CONVERSATIONS, {"chat_id": 101}, {"awaiting": "photo"})
        Transaction.of(session).insert_later(OUTBOX, _row(clock, "third"))
        assert await _outbox(db) == []  # not yet: they wait for the commit
    assert [text for text, _ in await _outbox(db)] == ["first", "second", "third"]
    assert (await _outbox(db))[0][1] == [[{"text": "OK", "data": "ok"}]]  # JSON as JSON
    assert await _chat(db, 101) == ("photo", {})


async def test_a_rollback_drops_what_was_held(db: Database, clock: FakeClock) -> None:
    async def failing() -> None:
        async with db.transaction() as session:
            Transaction.of(session).insert_later(OUTBOX, _row(clock, "never"))
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing()
    async with db.transaction() as session:  # the same session, used again
        Transaction.of(session).insert_later(OUTBOX, _row(clock, "later"))
    assert [text for text, _ in await _outbox(db)] == ["later"]


async def test_two_updates_of_one_row_are_merged(db: Database, clock: FakeClock) -> None:
    await _new_chat(db, clock, 101)
    async with db.transaction() as session:
        Transaction.of(session).update_later(
            CONVERSATIONS, {"chat_id": 101}, {"awaiting": "reason"}
        )
        Transaction.of(session).update_later(CONVERSATIONS, {"chat_id": 101}, {"data": {"n": 2}})
        Transaction.of(session).update_later(CONVERSATIONS, {"chat_id": 101}, {"awaiting": "photo"})
    assert await _chat(db, 101) == ("photo", {"n": 2})


async def test_a_reader_can_have_them_written_first(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as session:
        Transaction.of(session).insert_later(OUTBOX, _row(clock, "seen"))
        await Transaction.of(session).write_now()
        assert await session.scalar(select(OUTBOX.c.text)) == "seen"
        Transaction.of(session).insert_later(OUTBOX, _row(clock, "after"))
    assert [text for text, _ in await _outbox(db)] == ["seen", "after"]


async def test_a_reader_of_one_table_has_them_written_only_if_one_is_to_it(
    db: Database, clock: FakeClock
) -> None:
    await _new_chat(db, clock, 101)
    async with db.transaction() as session:
        Transaction.of(session).update_later(CONVERSATIONS, {"chat_id": 101}, {"awaiting": "photo"})
        with _statements(db) as seen:
            await Transaction.of(session).write_now(OUTBOX)  # nothing held is to the outbox
        assert seen == []
        Transaction.of(session).insert_later(OUTBOX, _row(clock, "seen"))
        await Transaction.of(session).write_now(OUTBOX)  # now everything held is written, in order
        assert await session.scalar(select(OUTBOX.c.text)) == "seen"
        assert await session.scalar(select(CONVERSATIONS.c.awaiting)) == "photo"


async def test_what_a_service_kept_is_dropped_with_the_transaction(db: Database) -> None:
    async with db.transaction() as session:
        Transaction.of(session).kept["evidence", 1] = ["photo"]
        assert Transaction.of(session).kept == {("evidence", 1): ["photo"]}
    async with db.transaction() as session:  # the same session, used again
        assert Transaction.of(session).kept == {}


async def test_the_locks_taken_are_the_transactions_and_dropped_with_it(db: Database) -> None:
    async with db.transaction() as session:
        tx = Transaction.of(session)
        assert Transaction.of(session) is tx and tx.session is session
        case = Case()
        tx.locked(Case)[1] = case
        assert tx.locked(Case) == {1: case}
    async with db.transaction() as session:  # the same session, used again
        assert Transaction.of(session).locked(Case) == {}


async def test_on_postgresql_they_are_one_statement_and_keep_their_order(
    db: Database, clock: FakeClock
) -> None:
    await _new_chat(db, clock, 101)
    with _statements(db) as seen:
        async with db.transaction() as session:
            Transaction.of(session).insert_later(
                OUTBOX, [_row(clock, "a"), _row(clock, "b", chat_id=102)]
            )
            Transaction.of(session).update_later(
                CONVERSATIONS, {"chat_id": 101}, {"awaiting": "photo"}
            )
            Transaction.of(session).insert_later(OUTBOX, _row(clock, "c"))
    writes = [kind for kind in seen if kind not in ("BEGIN", "COMMIT")]
    # Elsewhere one statement a table: the outbox's three rows go as one executemany.
    postgres = db.url.get_backend_name() == "postgresql"
    assert writes == (["WITH"] if postgres else ["INSERT", "UPDATE"])
    assert [text for text, _ in await _outbox(db)] == ["a", "b", "c"]
    assert await _chat(db, 101) == ("photo", {})
