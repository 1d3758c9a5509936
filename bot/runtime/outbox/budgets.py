"""Telegram's limits shared by every sender of the bot (docs/sender.md#limits): the budget of
bot/runtime/outbox/limits.py kept in PostgreSQL or in Redis.

Either way a reservation is one atomic step on the server, with no lock that outlives it: on
PostgreSQL one statement in autocommit (the rows it writes are locked only while it runs), on
Redis one Lua script. The time is the server's, so the senders' clocks need not agree; tests
inject theirs (`now`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, String, bindparam, text

from bot.config.settings import LimitsSettings
from bot.runtime.outbox.limits import GLOBAL, Budget, MemoryBudget, Reservation
from bot.storage.database import Database

PRUNE_EVERY = 600.0  # seconds between drops of chat rows free for a while (PostgreSQL)
FORGET_AFTER = 60.0  # seconds a chat stays remembered once it is free to send again

# Each statement takes the server's time in seconds since the epoch, unless the caller gives
# one (:now, tests).

# The chat's next time, read; if it has come, the bot's next slot reserved (the row locked by
# this statement alone) and the chat's next time moved past it. Both writes are upserts: a
# scope with no row yet is free. Every send of the bot updates its one row, so the statement's
# own transaction commits without waiting for its WAL to reach the disk (synchronous_commit off,
# for this transaction only): the row's lock ends with the statement, not a disk flush later.
# A database that crashes may forget the last fraction of a second of reservations, which lets
# a few messages through early once; Telegram's 429 then slows the chat (docs/sender.md#limits).
_RESERVE = text(
    """
    WITH t AS (
        SELECT coalesce(:now, extract(epoch FROM clock_timestamp())::double precision) AS now,
            set_config('synchronous_commit', 'off', true) AS quick
    ),
    chat AS (
        SELECT coalesce(
            (SELECT next_at FROM rate_budgets WHERE scope = :chat), '-infinity'::float8
        ) AS next_at
    ),
    slot AS (
        INSERT INTO rate_budgets AS b (scope, next_at)
        SELECT :global, t.now + :interval FROM t, chat WHERE chat.next_at <= t.now
        ON CONFLICT (scope) DO UPDATE
            SET next_at = greatest(b.next_at, (SELECT now FROM t)) + :interval
        RETURNING b.next_at - :interval AS at
    ),
    mark AS (
        INSERT INTO rate_budgets AS b (scope, next_at)
        SELECT :chat, slot.at + :chat_interval FROM slot
        ON CONFLICT (scope) DO UPDATE SET next_at = greatest(b.next_at, excluded.next_at)
    )
    SELECT (SELECT at FROM slot) - t.now AS slot_wait, chat.next_at - t.now AS chat_wait, t.now
    FROM t, chat
    """
).bindparams(
    bindparam("now", type_=Float()),
    bindparam("chat", type_=String()),
    bindparam("global", type_=String()),
    bindparam("interval", type_=Float()),
    bindparam("chat_interval", type_=Float()),
)

_PAUSE = text(
    """
    INSERT INTO rate_budgets AS b (scope, next_at)
    SELECT scope, coalesce(:now, extract(epoch FROM clock_timestamp())::double precision)
        + :seconds
    FROM unnest(CAST(:scopes AS varchar[])) AS scope
    ON CONFLICT (scope) DO UPDATE SET next_at = greatest(b.next_at, excluded.next_at)
    """
).bindparams(bindparam("now", type_=Float()), bindparam("seconds", type_=Float()))

_PRUNE = text(
    "DELETE FROM rate_budgets WHERE scope <> :global AND next_at < "
    "coalesce(:now, extract(epoch FROM clock_timestamp())::double precision) - :forget"
).bindparams(bindparam("now", type_=Float()), bindparam("forget", type_=Float()))


class PostgresBudget:
    """The budget in the bot's PostgreSQL database (table rate_budgets, migration 0016)."""

    def __init__(self, db: Database, now: Callable[[], float] | None = None) -> None:
        if db.is_sqlite:
            raise ValueError(
                "RETURNDESK_LIMITS_STORE=postgresql needs a PostgreSQL database; "
                "one process on SQLite keeps its own budget"
            )
        # Autocommit: each statement is its own transaction, so no row stays locked while the
        # answer travels back.
        self.engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._now = now
        self._pruned = time.monotonic()

    async def reserve(self, chat: str, chat_interval: float, interval: float) -> Reservation:
        parameters = {
            "now": self._time(),
            "chat": chat,
            "global": GLOBAL,
            "interval": interval,
            "chat_interval": chat_interval,
        }
        async with self.engine.connect() as connection:
            slot_wait, chat_wait, now = (await connection.execute(_RESERVE, parameters)).one()
            if time.monotonic() - self._pruned > PRUNE_EVERY:
                self._pruned = time.monotonic()
                await connection.execute(
                    _PRUNE, {"now": self._time(), "global": GLOBAL, "forget": FORGET_AFTER}
                )
        if slot_wait is None:
            return Reservation(False, chat_wait, now)
        return Reservation(True, slot_wait, now)

    async def pause(self, chat: str, seconds: float) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(
                _PAUSE, {"now": self._time(), "seconds": seconds, "scopes": [chat, GLOBAL]}
            )

    def _time(self) -> float | None:
        return None if self._now is None else self._now()


# KEYS: the chat's, the bot's. ARGV: now ('' for the server's), the bot's interval, the
# chat's, how long a key outlives its time (ms). Numbers travel as strings: a Lua number
# returned to Redis is cut to an integer.
_RESERVE_LUA = """
local now = tonumber(ARGV[1])
if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local interval, chat_interval, keep = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local chat_next = tonumber(redis.call('GET', KEYS[1]))
if chat_next and chat_next > now then
    return {0, string.format('%.6f', chat_next - now), string.format('%.6f', now)}
end
local slot = tonumber(redis.call('GET', KEYS[2])) or now
if slot < now then slot = now end
local function keep_until(key, at)
    redis.call('SET', key, string.format('%.6f', at), 'PX', math.ceil((at - now) * 1000) + keep)
end
keep_until(KEYS[2], slot + interval)
local chat_at = slot + chat_interval
if chat_next and chat_next > chat_at then chat_at = chat_next end
keep_until(KEYS[1], chat_at)
return {1, string.format('%.6f', slot - now), string.format('%.6f', now)}
"""

# KEYS: the chat's, the bot's. ARGV: now ('' for the server's), seconds, keep (ms).
_PAUSE_LUA = """
local now = tonumber(ARGV[1])
if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local until_at, keep = now + tonumber(ARGV[2]), tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
    local at = tonumber(redis.call('GET', key))
    if not at or at < until_at then
        redis.call('SET', key, string.format('%.6f', until_at), 'PX',
            math.ceil((until_at - now) * 1000) + keep)
    end
end
return 1
"""


class RedisBudget:
    """The budget in Redis (RETURNDESK_LIMITS_REDIS_URL): for many senders, or to keep the
    database out of every send. Keys share a hash tag, so one script's keys sit on one node
    of a Redis Cluster too."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "returndesk:{bot}:",
        now: Callable[[], float] | None = None,
    ) -> None:
        self.client = client  # redis.asyncio.Redis
        self.prefix = prefix
        self._now = now
        self._reserve = client.register_script(_RESERVE_LUA)
        self._pause = client.register_script(_PAUSE_LUA)
        self._keep = int(FORGET_AFTER * 1000)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisBudget:
        from redis.asyncio import Redis  # only those who set a Redis URL need the client

        return cls(Redis.from_url(url), **options)

    async def reserve(self, chat: str, chat_interval: float, interval: float) -> Reservation:
        reserved, wait, now = await self._reserve(
            keys=[self.prefix + chat, self.prefix + GLOBAL],
            args=[self._time(), repr(interval), repr(chat_interval), self._keep],
        )
        return Reservation(bool(reserved), float(wait), float(now))

    async def pause(self, chat: str, seconds: float) -> None:
        await self._pause(
            keys=[self.prefix + chat, self.prefix + GLOBAL],
            args=[self._time(), repr(float(seconds)), self._keep],
        )

    async def close(self) -> None:
        await self.client.aclose()

    def _time(self) -> str:
        return "" if self._now is None else repr(self._now())


def choose_budget(settings: LimitsSettings, db: Database, *, bot: str = "bot") -> Budget:
    """The budget RETURNDESK_LIMITS_STORE names; `auto`: Redis when a URL is set, else
    PostgreSQL when the database is, else the process's own (one process on SQLite). `bot`
    (the bot's id) keeps two bots that share a Redis apart: the limits are each bot's."""
    store = settings.store
    if store == "auto":
        store = "redis" if settings.redis_url else ("process" if db.is_sqlite else "postgresql")
    if store == "redis":
        assert settings.redis_url is not None  # LimitsSettings checks it
        return RedisBudget.from_url(
            settings.redis_url.get_secret_value(), prefix=f"returndesk:{{{bot}}}:"
        )
    if store == "postgresql":
        return PostgresBudget(db)
    return MemoryBudget()
