"""S3 for the tests: moto's server mode, started on loopback by the tests themselves, and
stores on it (docs/operations.md, "Media")."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from bot.storage.media.s3 import S3MediaStore, S3Options

KEYS = {"access_key_id": "test-access-key", "secret_access_key": "test-secret-key"}
_buckets = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class S3Server:
    """moto's S3 in a thread of this process, on loopback."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._running = False

    def start(self) -> None:
        self._server.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._server.stop()
            self._running = False


@contextmanager
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def s3_options(endpoint: str, bucket: str) -> S3Options:
    return S3Options(
        bucket=bucket,
        endpoint_url=endpoint,
        region="us-east-1",
        addressing_style="path",
        **KEYS,
    )


async def new_bucket(endpoint: str) -> S3MediaStore:
    """A store on a bucket of its own, made for the test."""
    bucket = f"returndesk-test-{next(_buckets)}"
    store = S3MediaStore(s3_options(endpoint, bucket))
    s3 = await store._s3()
    await s3.create_bucket(Bucket=bucket)
    return store


def s3_environment(store: S3MediaStore) -> dict[str, str]:
    """The settings a `returndesk` command reads to use `store` (docs/operations.md, "Media")."""
    o = store.options
    return {
        "RETURNDESK_MEDIA_BACKEND": "s3",
        "RETURNDESK_MEDIA_S3_BUCKET": o.bucket,
        "RETURNDESK_MEDIA_S3_ENDPOINT_URL": o.endpoint_url or "",
        "RETURNDESK_MEDIA_S3_REGION": o.region or "",
        "RETURNDESK_MEDIA_S3_ACCESS_KEY_ID": o.access_key_id or "",
        "RETURNDESK_MEDIA_S3_SECRET_ACCESS_KEY": o.secret_access_key or "",
        "RETURNDESK_MEDIA_S3_PREFIX": o.prefix,
        "RETURNDESK_MEDIA_S3_ADDRESSING_STYLE": o.addressing_style,
    }
