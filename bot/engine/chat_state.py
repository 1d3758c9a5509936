"""What a chat waits for next (its `conversations` row), read and written with plain SQL.

Every update locks this row and most updates change it, so the engine holds it as a small
value rather than an ORM entity: the ORM's loading and unit of work cost several times the two
statements themselves, on every update.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Buyer, Conversation
from bot.storage.types import UTCDateTime
from bot.storage.upsert import insert_ignore

CONVERSATIONS = cast(Table, Conversation.__table__)
BUYERS = cast(Table, Buyer.__table__)
_COLUMNS = ("awaiting", "case_id", "offer_id", "data")
# The sender's buyer profile, in BuyerProfile's order, comes with the chat's row: every update
# reads both, and on the engine's path a statement costs far more in SQLAlchemy than in the
# database. bot.services.parties makes a profile of it.
PROFILE = (BUYERS.c.name, BUYERS.c.language, BUYERS.c.language_code, BUYERS.c.timezone)
_LOCK = (
    select(*(CONVERSATIONS.c[name] for name in _COLUMNS), *PROFILE)
    .select_from(CONVERSATIONS.outerjoin(BUYERS, BUYERS.c.telegram_id == bindparam("sender")))
    .where(CONVERSATIONS.c.chat_id == bindparam("chat"))
    .with_for_update(of=CONVERSATIONS)
)
_SAVE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.chat_id == bindparam("chat"))
    .values(
        {name: bindparam(f"new_{name}") for name in _COLUMNS}
        | {"updated_at": bindparam("now", type_=UTCDateTime())}
    )
)


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


async def lock(
    session: AsyncSession, chat_id: int, now: datetime, sender_id: int
) -> tuple[ChatState, Sequence[Any] | None]:
    """The chat's state, its row locked until the update's transaction ends (created on the
    chat's first update; two first updates at once both insert-or-nothing, then one waits),
    and the sender's profile columns (None before the sender's first update)."""
    keys = {"chat": chat_id, "sender": sender_id}
    row = (await session.execute(_LOCK, keys)).first()
    if row is None:
        await insert_ignore(
            session, Conversation, {"chat_id": chat_id, "data": {}, "updated_at": now}
        )
        row = (await session.execute(_LOCK, keys)).first()
    assert row is not None
    state = ChatState(chat_id, *row[: len(_COLUMNS)])
    state.stored()
    profile = row[len(_COLUMNS) :]
    return state, None if profile[-1] is None else profile


async def save(session: AsyncSession, state: ChatState, now: datetime) -> None:
    """Write the state back if the update changed it."""
    if not state.changed:
        return
    await session.flush()  # a case or offer it now points at must be a row first
    values = {f"new_{name}": value for name, value in zip(_COLUMNS, state._values(), strict=True)}
    await session.execute(_SAVE, {"chat": state.chat_id, "now": now, **values})
    state.stored()
