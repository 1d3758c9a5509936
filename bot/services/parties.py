"""Who is who: buyers from their updates, deciders and support from the shop file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.shop import ShopConfig
from bot.engine.context import Actor, BuyerProfile
from bot.engine.events import Sender
from bot.storage.models import Buyer, Decider, Seller, SupportMember
from bot.storage.stores.chat_state import BUYERS, PROFILE
from bot.storage.upsert import insert_ignore

# A new buyer's profile, read back once inserted (others come with the chat's state).
_READ = select(*PROFILE).where(BUYERS.c.telegram_id == bindparam("id"))


async def identify(
    session: AsyncSession,
    shop: ShopConfig,
    sender: Sender,
    profile: Sequence[Any] | None,
    *,
    system: bool = False,
) -> Actor:
    """Who sent the update; `profile` is the sender's PROFILE as read, None if not found."""
    if system:
        # Nobody to look up; a profile in memory only, so readers have a default.
        return Actor(BuyerProfile(0, "", None, None, "UTC"), frozenset(), False, True)
    buyer = await ensure_buyer(session, sender, profile)
    seller_ids = frozenset(
        seller.id
        for seller in shop.sellers
        if any(d.telegram_id == sender.id for d in seller.deciders)
    )
    is_support = any(m.telegram_id == sender.id for m in shop.support.members)
    return Actor(buyer=buyer, seller_ids=seller_ids, is_support=is_support)


async def ensure_buyer(
    session: AsyncSession, sender: Sender, row: Sequence[Any] | None
) -> BuyerProfile:
    """The sender's buyer row (created on their first update), with the name and language
    code their Telegram client sends now; `row` is their PROFILE as read, None if not found."""
    if row is None:
        # Insert-or-nothing: the same person's first updates may arrive in two chats at once.
        await insert_ignore(
            session,
            Buyer,
            {
                "telegram_id": sender.id,
                "name": sender.name[:200],
                "language_code": sender.language_code,
                "timezone": "UTC",
            },
        )
        row = (await session.execute(_READ, {"id": sender.id})).one()
    profile = BuyerProfile(sender.id, *row)
    changes: dict[str, Any] = {}
    if sender.name and profile.name != sender.name[:200]:
        changes["name"] = profile.name = sender.name[:200]
    if sender.language_code and profile.language_code != sender.language_code:
        changes["language_code"] = profile.language_code = sender.language_code
    if changes:
        await _update(session, profile.telegram_id, changes)
    return profile


async def set_language(session: AsyncSession, buyer: BuyerProfile, language: str) -> None:
    """The buyer's choice with /language, which wins over their client's language code."""
    buyer.language = language
    await _update(session, buyer.telegram_id, {"language": language})


async def _update(session: AsyncSession, telegram_id: int, values: dict[str, Any]) -> None:
    # Through the ORM's bulk path, so a Buyer entity this session holds is updated too.
    await session.execute(
        update(Buyer).where(Buyer.telegram_id == telegram_id).values(values),
        execution_options={"synchronize_session": "evaluate"},
    )


async def sync_shop(session: AsyncSession, shop: ShopConfig) -> None:
    """Mirror the shop file into the database, which orders and reports refer to."""
    for config in shop.sellers:
        seller = await session.get(Seller, config.id)
        if seller is None:
            seller = Seller(id=config.id, deciders=[])
            session.add(seller)
        seller.name = config.name
        seller.language = config.language
        seller.timezone = config.timezone
        wanted = {p.telegram_id: p.name for p in config.deciders}
        seller.deciders = [d for d in seller.deciders if d.telegram_id in wanted]
        for decider in seller.deciders:
            decider.name = wanted.pop(decider.telegram_id)
        seller.deciders.extend(Decider(telegram_id=tid, name=name) for tid, name in wanted.items())

    members = {m.telegram_id: m for m in shop.support.members}
    for existing in (await session.scalars(select(SupportMember))).all():
        if existing.telegram_id not in members:
            await session.delete(existing)
    for member in members.values():
        row = await session.get(SupportMember, member.telegram_id)
        if row is None:
            row = SupportMember(telegram_id=member.telegram_id)
            session.add(row)
        row.name = member.name
        row.language = shop.support.language
        row.timezone = shop.support.timezone
