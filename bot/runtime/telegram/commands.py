"""The command menus Telegram shows, per language and per role (setMyCommands)."""

from __future__ import annotations

from typing import Any

from bot.config.shop import ShopConfig
from bot.rendering import LOCALES, Reader, Renderer
from bot.runtime.telegram.adapter import TelegramAdapter

BUYER_COMMANDS = ("start", "orders", "language", "cancel", "help", "forget")
DECIDER_COMMANDS = (*BUYER_COMMANDS, "pending", "failed", "report")
OZON_COMMANDS = ("ozon_returns",)  # a seller on Ozon's deciders (docs/ozon.md)
SUPPORT_COMMANDS = ("queue", "take", "offer", "refund", "handback", "resolve", "rebind", "report")
# With no support group, a member works the desk from their own chat (docs/support-desk.md).
PRIVATE_DESK_COMMANDS = (*BUYER_COMMANDS, *SUPPORT_COMMANDS, "switch")


def describe(renderer: Renderer, locale: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    reader = Reader(locale)
    return [(name, renderer.label(f"command_{name}", reader)) for name in names]


async def register_commands(
    adapter: TelegramAdapter[Any], shop: ShopConfig, renderer: Renderer
) -> None:
    """Buyers get their commands in their app's language (English as the fallback); each
    decider's chat also lists /pending, /failed and /report, in the seller's language; the
    support group lists the desk's commands, or, with no group, each support member's own chat
    does."""
    await adapter.set_commands(
        describe(renderer, "en", BUYER_COMMANDS), language=None, chat_id=None
    )
    for locale in LOCALES:
        await adapter.set_commands(
            describe(renderer, locale, BUYER_COMMANDS), language=locale, chat_id=None
        )
    for seller in shop.sellers:
        names = (*DECIDER_COMMANDS, *OZON_COMMANDS) if seller.ozon else DECIDER_COMMANDS
        commands = describe(renderer, seller.language, names)
        for decider in seller.deciders:
            await adapter.set_commands(commands, language=None, chat_id=decider.telegram_id)
    if shop.support.chat_id is not None:
        desk = describe(renderer, shop.support.language, SUPPORT_COMMANDS)
        await adapter.set_commands(desk, language=None, chat_id=shop.support.chat_id)
        return
    desk = describe(renderer, shop.support.language, PRIVATE_DESK_COMMANDS)
    for member in shop.support.members:
        await adapter.set_commands(desk, language=None, chat_id=member.telegram_id)
