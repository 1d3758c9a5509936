"""Who is who: buyers from their updates, deciders and support from the shop file."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.shop import ShopConfig
from bot.engine.context import Actor
from bot.engine.events import Sender
from bot.storage.models import Buyer, Decider, Seller, SupportMember
from bot.storage.upsert import insert_ignore


async def identify(
    session: AsyncSession, shop: ShopConfig, sender: Sender, *, system: bool = False
) -> Actor:
    if system:
        # Nobody to look up; a buyer row in memory only, so readers have a default.
        return Actor(Buyer(telegram_id=0, name="", timezone="UTC"), frozenset(), False, True)
    buyer = await ensure_buyer(session, sender)
    seller_ids = frozenset(
        seller.id
        for seller in shop.sellers
        if any(d.telegram_id == sender.id for d in seller.deciders)
    )
    is_support = any(m.telegram_id == sender.id for m in shop.support.members)
    return Actor(buyer=buyer, seller_ids=seller_ids, is_support=is_support)


async def ensure_buyer(session: AsyncSession, sender: Sender) -> Buyer:
    buyer = await session.get(Buyer, sender.id)
    if buyer is None:
        buyer = await _insert_buyer(session, sender)
    if sender.name and buyer.name != sender.name[:200]:
        buyer.name = sender.name[:200]
    if sender.language_code and buyer.language_code != sender.language_code:
        buyer.language_code = sender.language_code
    return buyer


async def _insert_buyer(session: AsyncSession, sender: Sender) -> Buyer:
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
    buyer = await session.get(Buyer, sender.id)
    assert buyer is not None
    return buyer


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
