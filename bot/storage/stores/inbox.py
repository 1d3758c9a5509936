"""The inbox's hot SQL: a fetched batch stored in one statement, the leftovers read at a start,
applied updates removed a batch at a time (on PostgreSQL by one array, so the statement's text is
the same however many keys; on SQLite by a list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import String, Table, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import InboxUpdate
from bot.storage.upsert import insert_ignore

INBOX = cast(Table, InboxUpdate.__table__)
_REMOVE = delete(INBOX).where(INBOX.c.key.in_(bindparam("keys", expanding=True)))
# PostgreSQL: the keys as one array, so the statement's text (which the server prepares once a
# connection) is the same however many there are.
_REMOVE_ANY = delete(INBOX).where(INBOX.c.key == any_(bindparam("keys", type_=ARRAY(String()))))
_LEFTOVERS = (
    select(INBOX.c.key, INBOX.c.update_id, INBOX.c.chat_id, INBOX.c.data)
    .where(INBOX.c.bot_id == bindparam("bot"))
    .order_by(INBOX.c.update_id)
)


async def store(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store the rows; updates stored before are left as they are."""
    await insert_ignore(session, InboxUpdate, rows)


async def leftovers(session: AsyncSession, bot_id: int) -> Sequence[Any]:
    """The bot's stored updates (key, update id, chat, data), oldest first."""
    return (await session.execute(_LEFTOVERS, {"bot": bot_id})).all()


async def remove(session: AsyncSession, keys: list[str]) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    await session.execute(_REMOVE_ANY if postgres else _REMOVE, {"keys": keys})
