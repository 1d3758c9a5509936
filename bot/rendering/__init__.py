"""Every word a person reads comes from templates/<locale>/*.j2 through this package."""

from bot.rendering.renderer import LOCALES, Reader, Renderer, locale_for, plain_text

__all__ = ["LOCALES", "Reader", "Renderer", "locale_for", "plain_text"]
