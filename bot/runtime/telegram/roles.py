"""Which parts of the bot one `returndesk run` process runs (docs/operations.md#roles).

Each part is safe to run in several processes on one PostgreSQL database: an update is claimed
by its id inside the transaction that applies it, a sender claims outbox rows with SKIP LOCKED
and a heartbeat, and a sweeper's actions carry keys the engine applies once. Long polling is the
exception: Telegram gives `getUpdates` to one consumer, so only the webhook scales out."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ALL = "all"  # everything, in one process: polling or the webhook
    WEB = "web"  # takes updates on the webhook and applies them; replies wait in the outbox
    SENDER = "sender"  # delivers the outbox within Telegram's limits
    SWEEPER = "sweeper"  # acts on promises at their warning point or past their due time

    @property
    def takes_updates(self) -> bool:
        return self in (Role.ALL, Role.WEB)

    @property
    def sends(self) -> bool:
        return self in (Role.ALL, Role.SENDER)

    @property
    def sweeps(self) -> bool:
        return self in (Role.ALL, Role.SWEEPER)

    @property
    def calls_telegram(self) -> bool:
        """A sweeper only writes what is owed to the outbox: it needs no word from Telegram
        to start."""
        return self is not Role.SWEEPER
