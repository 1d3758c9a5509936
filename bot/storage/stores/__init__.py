"""The hot SQL: statements on the path of every update or delivery, each store with its
PostgreSQL and SQLite forms side by side (PostgreSQL does in one round trip what SQLite, with no
round trips and no data-modifying CTEs, does in plain statements)."""
