"""Delivering the outbox: claimed rows, per-chat order, Telegram's rate limits, retries."""
