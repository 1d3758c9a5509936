"""Photos as files in one folder: for one process (the default, RETURNDESK_TELEGRAM_MEDIA_DIR)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.storage.media import MediaStore, MediaUnavailableError, checked_key, key_in


class LocalMediaStore(MediaStore):
    name = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / f"{checked_key(key)}.jpg"

    def where(self, key: str) -> str:
        return str(self.path(key))

    def keeps(self, stored_path: str) -> bool:
        # A relative RETURNDESK_TELEGRAM_MEDIA_DIR (the default, `media`) and its absolute path
        # name the same folder.
        key = key_in(stored_path)
        return key is not None and Path(stored_path).absolute() == self.path(key).absolute()

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    def _write(self, path: Path, data: bytes) -> None:
        if path.exists():
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written beside it, then renamed: a reader never sees half a photo.
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".part", delete=False) as f:
                f.write(data)
            Path(f.name).replace(path)
        except OSError as error:
            raise MediaUnavailableError(
                f"the media folder {self.folder} cannot keep a photo: {error.strerror or error}"
            ) from error

    async def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return self.path(key).exists()

    async def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    async def check(self) -> None:
        """A folder the bot cannot write would fail every photo: said at start instead."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder):
                pass
        except OSError as error:
            raise MediaUnavailableError(
                f"RETURNDESK_TELEGRAM_MEDIA_DIR ({self.folder}) cannot hold the buyers' photos: "
                f"{error.strerror or error}"
            ) from error
