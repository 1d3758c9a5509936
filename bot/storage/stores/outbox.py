"""The outbox's hot SQL: the engine holds an update's replies for its commit, and the sender
claims due rows and retires delivered ones, on PostgreSQL in one statement each, on SQLite (no
data-modifying CTEs, no arrays, one writer at a time) in plain statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Executable,
    Integer,
    Select,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage, TranscriptEntry
from bot.storage.transaction import Transaction
from bot.storage.types import UTCDateTime

OUTBOX = cast(Table, OutboxMessage.__table__)
TRANSCRIPT = cast(Table, TranscriptEntry.__table__)


def hold(tx: Transaction, rows: list[dict[str, Any]]) -> None:
    """An update's replies, written as its transaction commits (the sender delivers them after)."""
    tx.insert_later(OUTBOX, rows)


class OutboxStore:
    """The sender's statements, in its database's form, built once: it claims several times a
    second."""

    def __init__(self, *, postgresql: bool, batch: int, per_chat: int) -> None:
        self.postgresql = postgresql
        self.claiming = _claim_statement(batch, per_chat, locking=postgresql)

    async def claim(self, session: AsyncSession, parameters: dict[str, Any]) -> Sequence[Any]:
        """Take due rows (`now`, `until`, `holder`), in their chats' order."""
        if self.postgresql:
            # SQLite's one writer at a time already makes claims take their turns.
            await session.execute(_TAKE_TURN)
        return (await session.execute(self.claiming, parameters)).all()

    async def retire(
        self, session: AsyncSession, marks: list[tuple[int, int | None]], now: datetime
    ) -> None:
        """Delivered rows (id, message id) leave the outbox for the transcript: on PostgreSQL
        in one statement, elsewhere in two run once a row; either way the statements' text is
        the same however many rows (so SQLAlchemy compiles them once)."""
        if self.postgresql:
            ids, message_ids = (list(column) for column in zip(*marks, strict=True))
            await session.execute(_RETIRE, {"ids": ids, "message_ids": message_ids, "now": now})
            return
        rows = [{"id": row, "message_id": message_id, "now": now} for row, message_id in marks]
        await session.execute(_COPY_ONE, rows)
        await session.execute(_DELETE_ONE, [{"id": row} for row, _ in marks])


# What a delivered row leaves in the transcript, in this order (see _transcript_entry).
_COPIED = [
    "at",
    "direction",
    "chat_id",
    "case_id",
    "text",
    "template",
    "caused_by",
    "delivered_at",
    "message_id",
]


def _transcript_entry(row: Any, message_id: Any) -> Select[Any]:
    """The transcript's columns (_COPIED) for a delivered outbox `row` (the table, or the rows
    a statement deleted from it) and its `message_id`; topic actions are not messages."""
    return select(
        row.c.created_at,
        literal("out"),
        row.c.chat_id,
        row.c.case_id,
        row.c.text,
        row.c.template,
        row.c.caused_by,
        bindparam("now", type_=UTCDateTime()),
        message_id,
    ).where(row.c.action.is_(None))


def _retire_statement() -> Executable:
    """PostgreSQL: delete the delivered rows (`ids`) and copy the messages among them to the
    transcript with their `message_ids`, in one statement."""
    ids = bindparam("ids", type_=postgresql.ARRAY(Integer()))
    message_ids = bindparam("message_ids", type_=postgresql.ARRAY(BigInteger()))
    gone = (
        delete(OUTBOX)
        .where(OUTBOX.c.id == any_(ids))
        .returning(
            *(OUTBOX.c[name] for name in ("id", "created_at", "chat_id", "case_id", "text")),
            *(OUTBOX.c[name] for name in ("template", "caused_by", "action")),
        )
        .cte("gone")
    )
    marks = func.unnest(ids, message_ids).table_valued("id", "message_id").render_derived("marks")
    copied = (
        _transcript_entry(gone, marks.c.message_id)
        .join_from(gone, marks, marks.c.id == gone.c.id)
        .order_by(gone.c.id)
    )
    return insert(TRANSCRIPT).from_select(_COPIED, copied).add_cte(gone)


_RETIRE = _retire_statement()
# Elsewhere (SQLite), one delivered row (`id`) at a time, run for all of them at once.
_COPY_ONE = insert(TRANSCRIPT).from_select(
    _COPIED,
    _transcript_entry(OUTBOX, bindparam("message_id", type_=BigInteger())).where(
        OUTBOX.c.id == bindparam("id")
    ),
)
_DELETE_ONE = delete(OUTBOX).where(OUTBOX.c.id == bindparam("id"))


# PostgreSQL: held by a claiming transaction until it ends. A claim that ran beside another
# would decide from rows as they were before the other's claim: it could pass over a chat's
# row the other was taking (locked) and take the rows behind it, sending them first.
_TAKE_TURN = select(func.pg_advisory_xact_lock(0x52657475726E))  # "Return"


def _claim_statement(batch: int, per_chat: int, *, locking: bool) -> Update:
    """Built once, with the time as a parameter: the sender claims several times a second."""
    now = bindparam("now", type_=UTCDateTime())
    # Every owed row once, in its chat's order: its place among the chat's owed rows, and
    # whether it or a row ahead of it is held by a sender or waiting to be retried (a due row
    # never waits itself, so for a due row that says whether one ahead waits: then it waits
    # too, and each chat reads its messages in the order they were written). One pass over
    # the owed rows, not a look at each candidate's earlier rows, which is quadratic in a
    # chat's backlog (a seller's chat gets a message for every decision asked of them).
    row = OUTBOX.alias("owed_row")
    waits = or_(
        and_(row.c.status == "sending", row.c.locked_until > now),
        and_(row.c.status == "pending", row.c.next_attempt_at > now),
    )
    in_chat_order: dict[str, Any] = {"partition_by": row.c.chat_id, "order_by": row.c.id}
    owed = (
        select(
            row.c.id,
            func.row_number().over(**in_chat_order).label("place"),
            func.max(case((waits, 1), else_=0)).over(**in_chat_order).label("waits_so_far"),
        )
        .where(row.c.status.in_(("pending", "sending")))
        .subquery("owed")
    )
    # Unless it waits, a row's earlier owed rows are due too and claimed with it.
    free = select(owed.c.id).where(owed.c.place <= per_chat, owed.c.waits_so_far == 0)
    candidate = OUTBOX.alias("candidate")
    # Checked again on the row itself: PostgreSQL re-reads a row changed since the statement
    # began (by its sender, a moment before) against these conditions, not the window's.
    due = or_(
        and_(candidate.c.status == "pending", candidate.c.next_attempt_at <= now),
        and_(candidate.c.status == "sending", candidate.c.locked_until <= now),
    )
    if locking:  # PostgreSQL
        # The free rows' ids as an array, computed once: a planner without statistics (a
        # new outbox) otherwise joins each candidate to the window again, which is quadratic.
        picked = select(candidate.c.id).where(
            candidate.c.id == any_(func.array(free.scalar_subquery())), due
        )
        picked = picked.with_for_update()
    else:
        picked = select(candidate.c.id).where(candidate.c.id.in_(free), due)
    picked = picked.order_by(candidate.c.id).limit(batch)
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(picked.scalar_subquery()))
        .values(
            status="sending",
            locked_until=bindparam("until", type_=UTCDateTime()),
            held_by=bindparam("holder"),
        )
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.chat_id,
            OUTBOX.c.thread_id,
            OUTBOX.c.text,
            OUTBOX.c.buttons,
            OUTBOX.c.photos,
            OUTBOX.c.topic_of,
            OUTBOX.c.action,
            OUTBOX.c.files,
        )
    )
