"""The process's understander of buyers' words, built once (docs/understanding.md).

Built at start-up by `warm` (bot/app.py), so that loading the lexicons and jieba's dictionary
(about a second) is not paid by the first buyer who types; handlers only call `understand`.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from typing import cast

from bot.config.settings import UnderstandingSettings, read
from bot.rendering.renderer import overrides_root, templates_root
from bot.understanding import (
    Intent,
    LexiconUnderstander,
    Understander,
    Understanding,
    detect_language,
)

log = logging.getLogger(__name__)


@cache
def understander() -> Understander:
    """The setting's choice: the offline lexicons (shipped, then the seller's folder on top), or
    a factory of the seller's own, such as a hosted language model."""
    choice = read(UnderstandingSettings).understander
    if choice == "lexicon":
        folders = [templates_root()]
        if (extra := overrides_root()) is not None:
            folders.append(extra)
        return LexiconUnderstander.from_folders(folders)
    module, _, factory = choice.partition(":")
    return cast("Understander", getattr(importlib.import_module(module), factory)())


def warm() -> None:
    understander()


def understand(text: str, language: str | None = None) -> Understanding:
    """What the text means, read in `language` or, without one, in the language of its script:
    a buyer whose Telegram is English may still write in Russian. An understander that fails
    (a hosted model that is down) leaves the words not understood: the buyer gets the answer
    they got before the bot understood words, and the update is not lost to it."""
    try:
        return understander().understand(text, language or detect_language(text))
    except Exception:
        log.exception("the understander failed; the words are taken as not understood")
        return Understanding(Intent.UNKNOWN)
