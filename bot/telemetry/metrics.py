"""The counters and the latency histogram of one bot process, on a registry of its own.

One `Metrics` is made per process (per test) and handed to the engine, the sender and the
sweeper, which count what happens in them; /metrics (bot/runtime/health/) adds what the
database holds, read at scrape time. Nothing here is global, so two bots in one process (the
tests) never add to each other's numbers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

PREFIX = "returndesk"
# Seconds: an update is a few milliseconds on an idle bot, seconds when a photo downloads or
# the database is slow.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = self._counter(
            "updates",
            "Updates the engine took, by outcome: applied, refused (answered with a refusal), "
            "failed (a bug; answered with an apology), duplicate (a replay, ignored); origin "
            "telegram or bot (the sweeper's own events).",
            ("outcome", "origin"),
        )
        self.update_seconds = Histogram(
            "update_seconds",
            "Seconds from an update reaching the engine to its transaction's commit.",
            ["origin"],
            namespace=PREFIX,
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.messages_sent = self._counter(
            "messages_sent", "Outbox rows delivered to Telegram (or maybe delivered)."
        )
        self.messages_failed = self._counter(
            "messages_failed", "Outbox rows Telegram refused for good (blocked, not found)."
        )
        self.retry_after = self._counter(
            "telegram_429", "Answers 429 Too Many Requests (retry_after) from Telegram."
        )
        self.promises_reminded = self._counter(
            "promises_reminded", "Promises the sweeper warned about before their due time."
        )
        self.promises_breached = self._counter(
            "promises_breached", "Promises the sweeper found past their due time."
        )
        self.dead_lettered = self._counter(
            "updates_dead_lettered",
            "Updates set aside after failing RETURNDESK_UPDATE_ATTEMPTS times.",
        )
        for origin in ("telegram", "bot"):
            for outcome in ("applied", "refused", "failed", "duplicate"):
                self.updates.labels(outcome, origin)  # shown as 0 before the first one
            self.update_seconds.labels(origin)

    def _counter(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, documentation, labels, namespace=PREFIX, registry=self.registry)

    def update(self, outcome: str, *, system: bool, seconds: float) -> None:
        origin = "bot" if system else "telegram"
        self.updates.labels(outcome, origin).inc()
        self.update_seconds.labels(origin).observe(seconds)
