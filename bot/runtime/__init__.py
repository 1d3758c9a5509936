"""The processes of a running bot: the Telegram service, the sweeper loop, the outbox sender.

The top of the layers (docs/design.md; the contract is in pyproject.toml): a runtime builds on
the app and the engine and nothing below imports it. Messenger adapters live here too; the
engine knows none of them.
"""
