"""The outbox's hot SQL: the engine holds an update's replies for its commit, and the sender
claims due rows and retires delivered ones, on PostgreSQL in one statement each, on SQLite (no
data-modifying CTEs, no arrays, one writer at a time) in plain statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
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


def _due(row: Any, now: Any) -> Any:
    """Whether `row` may be claimed now: owed and due, or held past its lease. Checked on the
    row itself, so PostgreSQL checks it again on a row changed since its statement began."""
    return or_(
        and_(row.c.status == "pending", row.c.next_attempt_at <= now),
        and_(row.c.status == "sending", row.c.locked_until <= now),
    )


def _chats_taken(free: CTE, batch: int, now: Any) -> CTE:
    """PostgreSQL: the chats this claim takes whole, each by locking its first owed row (its
    head) with SKIP LOCKED, so claims never wait for each other (docs/sender.md#claiming).

    Every claim of a chat locks its head first, so two claims never take the same chat. A
    claim that read the outbox before another claim's commit finds the head locked (and skips
    the chat) or, once the other has committed, finds it no longer due when it checks the
    locked row again (and skips it too): it never takes a chat's later rows while an earlier
    one is being sent. Only the heads are locked: no lock every sender needs, and none held
    past the claim's own commit. At most `batch` chats: the claim takes no more rows."""
    head = OUTBOX.alias("head")
    first = select(free.c.id).where(free.c.place == 1)
    return (
        select(head.c.chat_id)
        .where(head.c.id == any_(func.array(first.scalar_subquery())), _due(head, now))
        .order_by(head.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .cte("chats_taken")
        .prefix_with("MATERIALIZED")  # locked once, before any row is taken
    )


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
            row.c.chat_id,
            func.row_number().over(**in_chat_order).label("place"),
            func.max(case((waits, 1), else_=0)).over(**in_chat_order).label("waits_so_far"),
        )
        .where(row.c.status.in_(("pending", "sending")))
        .subquery("owed")
    )
    # Unless it waits, a row's earlier owed rows are due too and claimed with it. (The place
    # filtered right above the window lets PostgreSQL stop numbering a chat's rows early.)
    free = select(owed.c.id, owed.c.chat_id, owed.c.place).where(
        owed.c.place <= per_chat, owed.c.waits_so_far == 0
    )
    candidate = OUTBOX.alias("candidate")
    if not locking:  # SQLite: one writer at a time, so claims take their turns anyway
        picked = select(candidate.c.id).where(candidate.c.id.in_(free.with_only_columns(owed.c.id)))
    else:
        free_once = free.cte("free")  # read by the heads and the rows alike
        taken = _chats_taken(free_once, batch, now)
        rows = select(free_once.c.id).where(free_once.c.chat_id.in_(select(taken.c.chat_id)))
        # The free rows' ids as an array, computed once: a planner without statistics (a new
        # outbox) otherwise joins each candidate to the window again, which is quadratic.
        picked = select(candidate.c.id).where(
            candidate.c.id == any_(func.array(rows.scalar_subquery()))
        )
    picked = picked.where(_due(candidate, now)).order_by(candidate.c.id).limit(batch)
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
