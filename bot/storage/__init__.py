"""The database: the only memory ReturnDesk has (docs/design.md#the-database-is-the-only-memory)."""
