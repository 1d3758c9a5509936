"""The downloaded copies of the photos buyers send as evidence (docs/privacy.md).

Today they are files in RETURNDESK_TELEGRAM_MEDIA_DIR, where the Telegram adapter saved them and
`evidence.stored_path` names them. Everything that reads or deletes a copy goes through here, so
another place to keep them (a database table, a bucket) replaces these two functions only."""

from __future__ import annotations

from pathlib import Path


def read_photo(stored_path: str) -> bytes | None:
    """The copy's bytes, or None when it is gone."""
    try:
        return Path(stored_path).read_bytes()
    except FileNotFoundError:
        return None


def delete_photo(stored_path: str) -> None:
    """Delete the copy; one already gone is deleted too (a sweep that died after deleting and
    before its commit deletes it again)."""
    Path(stored_path).unlink(missing_ok=True)
