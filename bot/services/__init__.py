"""What changes the database, one rule each: cases, offers, the ledger, promises, audit.

Services work inside the transaction the engine opened for the update; they never commit.
"""
