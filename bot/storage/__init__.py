"""The database: the only memory ReturnDesk has (DESIGN decision 2)."""
