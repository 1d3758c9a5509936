"""Every word a person reads comes from templates/*.j2 and their catalogs through this package."""

from bot.rendering.renderer import LOCALES, Reader, Renderer, locale_for, plain_text

__all__ = ["LOCALES", "Reader", "Renderer", "locale_for", "plain_text"]
