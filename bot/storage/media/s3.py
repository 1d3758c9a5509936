"""Photos as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, Yandex Object Storage ...)
through aiobotocore: shared by any number of workers, kept out of the database.

botocore tries a failed call again itself (standard mode: connection errors, 5xx, throttling);
what still fails is a MediaUnavailableError, and the buyer is asked to send the photo again
later rather than waiting on a bucket that does not answer.
"""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from bot.storage.media import MediaStore, MediaUnavailableError, checked_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

MISSING = {"404", "NoSuchKey", "NotFound"}
CONNECT_TIMEOUT = 5.0  # seconds; a bucket that does not accept a connection in 5 s is down
READ_TIMEOUT = 30.0  # a 10 MB photo over a slow link, and no longer
TRIES = 3  # botocore's own, in all, for what may pass


@dataclass(frozen=True)
class S3Options:
    bucket: str
    endpoint_url: str | None = None  # None: AWS itself
    region: str | None = None
    access_key_id: str | None = None  # None: botocore's usual chain (AWS_* variables, roles)
    secret_access_key: str | None = None
    prefix: str = "photos/"
    addressing_style: Literal["auto", "path", "virtual"] = "auto"  # path: most self-hosted


class S3MediaStore(MediaStore):
    name = "s3"

    def __init__(self, options: S3Options) -> None:
        self.options = options
        self._client: S3Client | None = None
        self._exits = AsyncExitStack()
        self._opening = asyncio.Lock()

    def object_key(self, key: str) -> str:
        return f"{self.options.prefix}{checked_key(key)}.jpg"

    def where(self, key: str) -> str:
        return f"s3://{self.options.bucket}/{self.object_key(key)}"

    async def _s3(self) -> S3Client:
        async with self._opening:
            if self._client is None:
                o = self.options
                config = AioConfig(
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                    retries={"max_attempts": TRIES, "mode": "standard"},
                    s3={"addressing_style": o.addressing_style},
                )
                self._client = await self._exits.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=o.endpoint_url,
                        region_name=o.region,
                        aws_access_key_id=o.access_key_id,
                        aws_secret_access_key=o.secret_access_key,
                        config=config,
                    )
                )
            return self._client

    async def put(self, key: str, data: bytes) -> None:
        s3 = await self._s3()
        try:
            await s3.put_object(
                Bucket=self.options.bucket,
                Key=self.object_key(key),
                Body=data,
                ContentType="image/jpeg",
                Metadata={"sha256": hashlib.sha256(data).hexdigest()},
            )
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("keep a photo in", error) from error

    async def get(self, key: str) -> bytes | None:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self.options.bucket, Key=self.object_key(key))
            async with answer["Body"] as body:
                data: bytes = await body.read()
        except ClientError as error:
            if _code(error) in MISSING:
                return None
            raise self._unavailable("read a photo from", error) from error
        except BotoCoreError as error:
            raise self._unavailable("read a photo from", error) from error
        return data

    async def exists(self, key: str) -> bool:
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.options.bucket, Key=self.object_key(key))
        except ClientError as error:
            if _code(error) in MISSING:
                return False
            raise self._unavailable("look for a photo in", error) from error
        except BotoCoreError as error:
            raise self._unavailable("look for a photo in", error) from error
        return True

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        try:  # S3 answers a delete of a missing object with success
            await s3.delete_object(Bucket=self.options.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("delete a photo from", error) from error

    async def check(self) -> None:
        s3 = await self._s3()
        try:
            await s3.head_bucket(Bucket=self.options.bucket)
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("reach", error) from error

    async def close(self) -> None:
        await self._exits.aclose()
        self._client = None

    def _unavailable(self, doing: str, error: Exception) -> MediaUnavailableError:
        # botocore's messages name the endpoint and the bucket, never the keys.
        detail = _code(error) if isinstance(error, ClientError) else type(error).__name__
        return MediaUnavailableError(
            f"could not {doing} the bucket {self.options.bucket!r}: {detail} ({error})"
        )


def _code(error: ClientError) -> str:
    info: Any = error.response.get("Error", {})
    return str(info.get("Code", ""))
