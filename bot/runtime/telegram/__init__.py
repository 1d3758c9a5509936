"""Telegram, on aiogram (primary) or python-telegram-bot (second adapter, same behaviour).

Each framework does the Telegram I/O (getUpdates, sending, files) and turns its own update
objects into the engine's neutral events; everything else, from confirming updates only after
they are stored to rate limits, is shared in this package.
"""
