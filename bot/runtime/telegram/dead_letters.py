"""Updates set aside (the `dead_letters` table): an update that kept failing while the database
answered is kept here with its error, its person is told, and its chat goes on without it.

The rule for what counts as such a failure is in docs/poison-updates.md. An update set aside was
never applied (the engine records every update it applied, refused or met a bug in, and those
never get here), so `returndesk inbox retry` can apply it as it was sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config.shop import ShopConfig
from bot.engine.context import seller_reader
from bot.rendering import Reader, Renderer, locale_for
from bot.storage.database import Database
from bot.storage.models import Buyer, DeadLetter, InboxUpdate, OutboxMessage

log = logging.getLogger(__name__)
INBOX = cast(Table, InboxUpdate.__table__)
DEAD = cast(Table, DeadLetter.__table__)
NOTICE = "common/set_aside"


@dataclass(frozen=True, slots=True)
class Poisoned:
    """What is known of an update that could not be applied: enough to keep it and to tell
    its sender (who is unknown when the update could not even be read)."""

    key: str
    bot_id: int
    update_id: int
    chat_id: int
    data: dict[str, Any]
    thread_id: int | None = None
    user_id: int | None = None
    language_code: str | None = None


class DeadLetters:
    def __init__(self, db: Database, clock: Clock, renderer: Renderer, shop: ShopConfig) -> None:
        self.db = db
        self.clock = clock
        self.renderer = renderer
        self.shop = shop

    async def set_aside(self, update: Poisoned, error: str, attempts: int) -> int:
        """Keep the update with its error, take it out of the inbox, and owe its sender a short
        honest reply, in one transaction; returns the dead letter's id."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            # Set aside again after a failed `inbox retry`: one row per update.
            await session.execute(delete(DEAD).where(DEAD.c.key == update.key))
            letter = DeadLetter(
                key=update.key,
                bot_id=update.bot_id,
                update_id=update.update_id,
                chat_id=update.chat_id,
                set_aside_at=now,
                attempts=attempts,
                error=error,
                data=update.data,
            )
            session.add(letter)
            await session.execute(delete(INBOX).where(INBOX.c.key == update.key))
            reader = await self._reader(session, update)
            session.add(
                OutboxMessage(
                    chat_id=update.chat_id,
                    thread_id=update.thread_id,
                    text=self.renderer.render(NOTICE, reader, now=now),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    template=NOTICE,
                    caused_by=update.key,
                )
            )
            await session.flush()
            return letter.id

    async def _reader(self, session: AsyncSession, update: Poisoned) -> Reader:
        """The sender's language, as the engine would have chosen it: support's in the support
        group, a seller's for its deciders, else the buyer's own choice or their app's."""
        support = self.shop.support
        if update.chat_id == support.chat_id or any(
            member.telegram_id == update.user_id for member in support.members
        ):
            return Reader(support.language, support.timezone)
        for seller in self.shop.sellers:
            if any(decider.telegram_id == update.user_id for decider in seller.deciders):
                return seller_reader(seller)
        buyer = (
            await session.execute(
                select(Buyer.language, Buyer.language_code, Buyer.timezone).where(
                    Buyer.telegram_id == (update.user_id or update.chat_id)
                )
            )
        ).first()
        if buyer is None:
            return Reader(locale_for(update.language_code))
        language, language_code, timezone = buyer
        return Reader(language or locale_for(update.language_code or language_code), timezone)

    async def listed(self) -> list[DeadLetter]:
        async with self.db.session() as session:
            return list(await session.scalars(select(DeadLetter).order_by(DeadLetter.id)))

    async def get(self, letter_id: int) -> DeadLetter | None:
        async with self.db.session() as session:
            return await session.get(DeadLetter, letter_id)

    async def drop(self, letter_id: int) -> bool:
        async with self.db.transaction() as session:
            dropped = await session.execute(delete(DEAD).where(DEAD.c.id == letter_id))
        return bool(getattr(dropped, "rowcount", 0))

    async def failed_again(self, letter_id: int, error: str) -> None:
        """A retry failed too: the row keeps the newest error and counts the try."""
        async with self.db.transaction() as session:
            letter = await session.get(DeadLetter, letter_id)
            if letter is not None:
                letter.error = error
                letter.attempts += 1
                letter.set_aside_at = self.clock.now()


def last_line(error: str) -> str:
    """The line of a traceback that says what went wrong."""
    lines = error.strip().splitlines()
    return lines[-1] if lines else "?"
