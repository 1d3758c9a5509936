"""Who sent an update: the buyer row every person has, and the roles the shop file gives them.

The engine works this out once per update, before any handler runs (bot/engine/processor.py),
so it belongs to the engine rather than to a service the engine would have to import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.shop import ShopConfig
from bot.engine.events import Author
from bot.storage.models import Buyer
from bot.storage.stores.chat_state import BUYERS, PROFILE
from bot.storage.upsert import insert_ignore


@dataclass(slots=True)
class BuyerProfile:
    """The sender as a buyer: read on every update, so a plain value rather than an entity."""

    telegram_id: int
    name: str
    language: str | None  # chosen with /language
    language_code: str | None  # the Telegram client's
    timezone: str


@dataclass(slots=True)
class Actor:
    """Who sent the update, computed once per update from the sender, never from a payload."""

    buyer: BuyerProfile
    seller_ids: frozenset[str]  # the sellers this person may decide for
    is_support: bool
    system: bool = False  # the bot itself (the sweeper), never a Telegram user


# A new buyer's profile, read back once inserted (others come with the chat's state).
_READ = select(*PROFILE).where(BUYERS.c.telegram_id == bindparam("id"))


async def identify(
    session: AsyncSession,
    shop: ShopConfig,
    author: Author,
    profile: Sequence[Any] | None,
    *,
    system: bool = False,
) -> Actor:
    """Who sent the update; `profile` is the author's PROFILE as read, None if not found."""
    if system:
        # Nobody to look up; a profile in memory only, so readers have a default.
        return Actor(BuyerProfile(0, "", None, None, "UTC"), frozenset(), False, True)
    buyer = await ensure_buyer(session, author, profile)
    seller_ids = frozenset(
        seller.id
        for seller in shop.sellers
        if any(d.telegram_id == author.id for d in seller.deciders)
    )
    is_support = any(m.telegram_id == author.id for m in shop.support.members)
    return Actor(buyer=buyer, seller_ids=seller_ids, is_support=is_support)


async def ensure_buyer(
    session: AsyncSession, author: Author, row: Sequence[Any] | None
) -> BuyerProfile:
    """The author's buyer row (created on their first update), with the name and language
    code their Telegram client sends now; `row` is their PROFILE as read, None if not found."""
    if row is None:
        # Insert-or-nothing: the same person's first updates may arrive in two chats at once.
        await insert_ignore(
            session,
            Buyer,
            {
                "telegram_id": author.id,
                "name": author.name[:200],
                "language_code": author.language_code,
                "timezone": "UTC",
            },
        )
        row = (await session.execute(_READ, {"id": author.id})).one()
    profile = BuyerProfile(author.id, *row)
    changes: dict[str, Any] = {}
    if author.name and profile.name != author.name[:200]:
        changes["name"] = profile.name = author.name[:200]
    if author.language_code and profile.language_code != author.language_code:
        changes["language_code"] = profile.language_code = author.language_code
    if changes:
        await update_buyer(session, profile.telegram_id, changes)
    return profile


async def update_buyer(session: AsyncSession, telegram_id: int, values: dict[str, Any]) -> None:
    # Through the ORM's bulk path, so a Buyer entity this session holds is updated too.
    await session.execute(
        update(Buyer).where(Buyer.telegram_id == telegram_id).values(values),
        execution_options={"synchronize_session": "evaluate"},
    )
