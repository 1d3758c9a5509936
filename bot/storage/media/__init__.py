"""Where buyers' photos are kept: one small interface, three places (docs/operations.md,
"Media").

Every worker of a bot must see every photo, whichever worker took the update that brought it:
the local folder serves one process (the default), the database (`media` table) and an
S3-compatible bucket serve any number. A photo is keyed by Telegram's `file_unique_id`, the
same for every delivery of the same file, so a replayed update finds its photo kept and writes
nothing again.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what Telegram's file_unique_id is made of


class MediaUnavailableError(Exception):
    """The store cannot be reached or refused to keep a photo; the message says which store
    and why, never a credential. The buyer is asked to send the photo again later."""


class MediaStore(ABC):
    """put, get, exists, delete; `where` names a kept photo for the evidence row."""

    name: str

    @abstractmethod
    async def put(self, key: str, data: bytes) -> None:
        """Keep `data` under `key`; keeping the same key again changes nothing."""

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The photo's bytes, or None when nothing is kept under `key`."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Forget the photo (erasure, retention); deleting what is not kept is no error."""

    @abstractmethod
    def where(self, key: str) -> str:
        """The photo's place, as kept in `evidence.stored_path`: a file path for the local
        folder, `database:KEY`, or `s3://BUCKET/KEY`."""

    def keeps(self, stored_path: str) -> bool:
        """Whether `stored_path` is this store's own place for its photo. False for a place
        another store named: another backend, folder, bucket or prefix than this process is
        set up with (an operator changed RETURNDESK_MEDIA_BACKEND since), which this store
        cannot reach."""
        key = key_in(stored_path)
        return key is not None and self.where(key) == stored_path

    async def check(self) -> None:
        """At start: raise MediaUnavailableError if photos could not be kept here."""
        # A store with nothing to check at start (the base's choice, not a forgotten body).
        return

    async def close(self) -> None:
        """Let go of connections."""
        # A store that holds no connection.
        return


def checked_key(key: str) -> str:
    """A key is a file name and an object name as it is: nothing that could climb out of the
    folder or the prefix."""
    if not KEY.fullmatch(key):
        raise ValueError(f"not a photo key: {key!r}")
    return key


def key_in(stored_path: str) -> str | None:
    """The key in an `evidence.stored_path`, whichever store's `where` wrote it: the file's
    name without `.jpg`, or what follows `database:`; None when it holds none."""
    name = re.split(r"[/:]", stored_path)[-1].removesuffix(".jpg")
    return name if KEY.fullmatch(name) else None
