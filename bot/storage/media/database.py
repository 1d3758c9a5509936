"""Photos as rows of the `media` table: shared by every worker with nothing more to run, for
small deployments (each photo is up to RETURNDESK_TELEGRAM_MAX_PHOTO_BYTES in the database)."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.database import Database
from bot.storage.media import MediaStore, MediaUnavailableError, checked_key
from bot.storage.models import MediaBlob
from bot.storage.upsert import insert_ignore


class DatabaseMediaStore(MediaStore):
    name = "database"

    def __init__(self, db: Database) -> None:
        self.db = db

    def where(self, key: str) -> str:
        return f"database:{checked_key(key)}"

    async def put(self, key: str, data: bytes) -> None:
        row = {
            "key": checked_key(key),
            "data": data,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        # Two workers given the same photo at once: one inserts, the other finds it there.
        async with self.db.transaction() as session:
            await insert_ignore(session, MediaBlob, row)

    async def get(self, key: str) -> bytes | None:
        async with self.db.session() as session:
            data: bytes | None = await session.scalar(
                select(MediaBlob.data).where(MediaBlob.key == checked_key(key))
            )
        return data

    async def exists(self, key: str) -> bool:
        async with self.db.session() as session:
            found = await session.scalar(
                select(MediaBlob.key).where(MediaBlob.key == checked_key(key))
            )
        return found is not None

    async def delete(self, key: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(MediaBlob).where(MediaBlob.key == checked_key(key)))

    async def check(self) -> None:
        try:
            async with self.db.session() as session:
                await session.execute(select(MediaBlob.key).limit(1))
        except SQLAlchemyError as error:
            raise MediaUnavailableError(
                "RETURNDESK_MEDIA_BACKEND=database, but the database cannot read its media "
                f"table: {type(error).__name__}"
            ) from error
