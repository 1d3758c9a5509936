"""What a chat waits for next (its `conversations` row), read and written with plain SQL.

Every update locks this row and most updates change it, so the engine holds it as a small
value rather than an ORM entity: the ORM's loading and unit of work cost several times the two
statements themselves, on every update. The same lock claims the update (its transcript
entry): on PostgreSQL in the same statement, since there every statement is a round trip.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Buyer, Conversation, TranscriptEntry
from bot.storage.transaction import Transaction
from bot.storage.types import UTCDateTime
from bot.storage.upsert import insert_ignore

CONVERSATIONS = cast(Table, Conversation.__table__)
BUYERS = cast(Table, Buyer.__table__)
TRANSCRIPT = cast(Table, TranscriptEntry.__table__)
_COLUMNS = ("awaiting", "case_id", "offer_id", "data")
_DATA = _COLUMNS.index("data")  # never NULL in a row that exists
# The sender's buyer profile, in BuyerProfile's order, comes with the chat's row: every update
# reads both, and on the engine's path a statement costs far more in SQLAlchemy than in the
# database. bot.services.parties makes a profile of it.
PROFILE = (BUYERS.c.name, BUYERS.c.language, BUYERS.c.language_code, BUYERS.c.timezone)
_ONE = select(literal(1).label("one")).subquery("one")
_SENDER = BUYERS.c.telegram_id == bindparam("sender")
_LOCK = (
    select(*(CONVERSATIONS.c[name] for name in _COLUMNS))
    .where(CONVERSATIONS.c.chat_id == bindparam("chat"))
    .with_for_update(key_share=True)  # the first lock of every update: docs/locking.md
)
# SQLite (which locks the whole database for a writing transaction, not rows): the chat's row,
# if it has one, and the sender's profile, if they have one, in one row either way.
_READ = select(*(CONVERSATIONS.c[name] for name in _COLUMNS), *PROFILE).select_from(
    _ONE.outerjoin(CONVERSATIONS, CONVERSATIONS.c.chat_id == bindparam("chat")).outerjoin(
        BUYERS, _SENDER
    )
)
# The update's transcript entry, by the parameters of a Claim and the chat; the case it is about
# is the one the chat's row names.
_ENTRY: dict[str, Any] = {
    "at": bindparam("at", type_=UTCDateTime()),
    "direction": literal("in"),
    "chat_id": bindparam("chat", type_=BigInteger()),
    "user_id": bindparam("user_id", type_=BigInteger()),
    "case_id": bindparam("case_id", type_=Integer()),
    "text": bindparam("text", type_=String()),
    "payload": bindparam("payload", type_=String()),
    "update_key": bindparam("update_key", type_=String()),
}
# SQLite (no data-modifying CTEs): the claim is a statement of its own, after the read.
_CLAIM_ALONE = sqlite.insert(TRANSCRIPT).values(_ENTRY).on_conflict_do_nothing()
# PostgreSQL: lock the chat's row (in a CTE: FOR UPDATE cannot take the nullable side of an
# outer join), claim the update with the case it is about, and read the claim's outcome and the
# sender's profile, in one statement that returns one row even when the chat has no row yet.
_LOCKED = _LOCK.cte("locked")
_CLAIM = (
    postgresql.insert(TRANSCRIPT)
    .from_select(
        list(_ENTRY),
        select(
            *(_LOCKED.c.case_id if name == "case_id" else v for name, v in _ENTRY.items())
        ).select_from(_ONE.outerjoin(_LOCKED, true())),
    )
    .on_conflict_do_nothing()
    .returning(TRANSCRIPT.c.id)
    .cte("claim")
)
_LOCK_AND_CLAIM = select(
    *_LOCKED.c, *PROFILE, select(func.count()).select_from(_CLAIM).scalar_subquery()
).select_from(_ONE.outerjoin(_LOCKED, true()).outerjoin(BUYERS, _SENDER))


@dataclass
class ChatState:
    chat_id: int
    awaiting: str | None = None
    case_id: int | None = None
    offer_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    _stored: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def _values(self) -> tuple[Any, ...]:
        return (self.awaiting, self.case_id, self.offer_id, self.data)

    @property
    def changed(self) -> bool:
        return self._values() != self._stored

    def stored(self) -> None:
        """What the row now holds, to tell later changes by (a copy: `data` is mutable)."""
        self._stored = copy.deepcopy(self._values())


@dataclass(frozen=True, slots=True)
class Claim:
    """The update's transcript entry, written once: a replay finds its key taken."""

    at: datetime
    user_id: int
    text: str | None
    payload: str | None
    update_key: str


Locked = tuple[ChatState, Sequence[Any] | None]


async def lock(
    tx: Transaction, chat_id: int, now: datetime, sender_id: int, claim: Claim
) -> Locked | None:
    """The chat's state, its row locked until the update's transaction ends (created on the
    chat's first update; two first updates at once both insert-or-nothing, then one waits),
    and the sender's profile columns (None before the sender's first update). None when the
    update was claimed before: a replay."""
    session = tx.session
    keys = {"chat": chat_id, "sender": sender_id}
    if session.get_bind().dialect.name == "postgresql":
        return await _lock_postgresql(session, chat_id, now, keys, claim)
    return await _lock_sqlite(session, chat_id, now, keys, claim)


async def _lock_postgresql(
    session: AsyncSession, chat_id: int, now: datetime, keys: dict[str, Any], claim: Claim
) -> Locked | None:
    """Lock, claim and read in one statement (one round trip)."""
    *row, claimed = (await session.execute(_LOCK_AND_CLAIM, keys | _claimed(claim))).one()
    if not claimed:
        return None
    state, profile = await _state(session, chat_id, now, keys, row)
    return state, profile


async def _lock_sqlite(
    session: AsyncSession, chat_id: int, now: datetime, keys: dict[str, Any], claim: Claim
) -> Locked | None:
    """Read (the transaction already holds the database's write lock), then claim: the claim
    names the case the chat's row names."""
    row = (await session.execute(_READ, keys)).one()
    state, profile = await _state(session, chat_id, now, keys, row)
    claiming = keys | _claimed(claim) | {"case_id": state.case_id}
    result = cast(CursorResult[Any], await session.execute(_CLAIM_ALONE, claiming))
    if not result.rowcount:
        return None
    return state, profile


async def _state(
    session: AsyncSession, chat_id: int, now: datetime, keys: dict[str, Any], row: Sequence[Any]
) -> Locked:
    """The chat's state and the sender's profile from the row read, the chat's row made if it
    had none."""
    columns, profile = row[: len(_COLUMNS)], row[len(_COLUMNS) :]
    if columns[_DATA] is None:  # the chat has no row yet: nothing was locked
        new = {"chat_id": chat_id, "data": {}, "updated_at": now}
        if await insert_ignore(session, Conversation, new):
            columns = (None, None, None, {})  # the row as inserted, locked by the insert
        else:  # another update of the chat inserted it first; this waited for its commit
            columns = (await session.execute(_LOCK, keys)).one()
    state = ChatState(chat_id, *columns)
    state.stored()
    return state, None if profile[-1] is None else profile


def _claimed(claim: Claim) -> dict[str, Any]:
    return {
        "at": claim.at,
        "user_id": claim.user_id,
        "text": claim.text,
        "payload": claim.payload,
        "update_key": claim.update_key,
    }


def save(tx: Transaction, state: ChatState, now: datetime) -> None:
    """Hold the state for the commit if the update changed it."""
    if not state.changed:
        return
    values = dict(zip(_COLUMNS, state._values(), strict=True)) | {"updated_at": now}
    tx.update_later(CONVERSATIONS, {"chat_id": state.chat_id}, values)
    state.stored()
