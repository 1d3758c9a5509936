"""What the running bot tells its operator: counters a scrape reads (metrics.py) and the chat a
log line is about (log_context.py). At the bottom of the layers, so the engine, the sender and
the sweeper can each count what happens in them (docs/operations.md#metrics)."""
