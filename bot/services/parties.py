"""Who is who beyond one update: a buyer's chosen language, deciders and support from the shop
file. Who sent an update is the engine's (bot/engine/identity.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.config.shop import ShopConfig
from bot.engine.identity import BuyerProfile, update_buyer
from bot.storage.models import Decider, Seller, SupportMember
from bot.storage.transaction import Transaction


async def set_language(tx: Transaction, buyer: BuyerProfile, language: str) -> None:
    """The buyer's choice with /language, which wins over their client's language code."""
    buyer.language = language
    await update_buyer(tx.session, buyer.telegram_id, {"language": language})


async def sync_shop(tx: Transaction, shop: ShopConfig) -> None:
    """Mirror the shop file into the database, which orders and reports refer to."""
    for config in shop.sellers:
        seller = await tx.session.get(Seller, config.id)
        if seller is None:
            seller = Seller(id=config.id, deciders=[])
            tx.session.add(seller)
        seller.name = config.name
        seller.language = config.language
        seller.timezone = config.timezone
        wanted = {p.telegram_id: p.name for p in config.deciders}
        seller.deciders = [d for d in seller.deciders if d.telegram_id in wanted]
        for decider in seller.deciders:
            decider.name = wanted.pop(decider.telegram_id)
        seller.deciders.extend(Decider(telegram_id=tid, name=name) for tid, name in wanted.items())

    members = {m.telegram_id: m for m in shop.support.members}
    for existing in (await tx.session.scalars(select(SupportMember))).all():
        if existing.telegram_id not in members:
            await tx.session.delete(existing)
    for member in members.values():
        row = await tx.session.get(SupportMember, member.telegram_id)
        if row is None:
            row = SupportMember(telegram_id=member.telegram_id)
            tx.session.add(row)
        row.name = member.name
        row.language = shop.support.language
        row.timezone = shop.support.timezone
