"""The garbage collector's settings for a long-running bot process.

What start-up builds (the frameworks' classes and schemas, the shop, the templates) lives as
long as the process; frozen, the collector's full passes skip it instead of walking all of it
again every few seconds under load. And an update allocates thousands of objects (the ORM's
states, the Telegram client's models), so at Python's default the young generation is collected
several times an update: 5.5% of the bot's CPU under load (`benchmarks/conversation.py
--profile bot.gc`). Collected every YOUNG allocations instead, it is 1.5%, and a collection
pauses the bot for a few milliseconds.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between collections of the young generation (Python's: 700)


def settle() -> None:
    """Call once start-up is done and the bot is about to take updates."""
    gc.freeze()
    gc.set_threshold(YOUNG)  # the older generations keep Python's thresholds
