"""The media stores: one interface, three places; what one worker keeps, another reads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import open_media
from bot.config.settings import MediaSettings, SettingsError, read
from bot.storage.database import Database
from bot.storage.media import MediaStore, MediaUnavailableError, key_in
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.local import LocalMediaStore
from bot.storage.media.s3 import S3MediaStore
from bot.storage.models import MediaBlob
from tests.desk import TEST_SHOP
from tests.media_servers import KEYS, free_port, new_bucket, s3_options

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200
KEY = "AQADxYZ_-09"


async def test_a_photo_is_kept_read_back_and_deleted(store: MediaStore) -> None:
    assert not await store.exists(KEY)
    assert await store.get(KEY) is None
    await store.check()
    await store.put(KEY, PHOTO)
    assert await store.exists(KEY)
    assert await store.get(KEY) == PHOTO
    await store.delete(KEY)
    assert not await store.exists(KEY)
    assert await store.get(KEY) is None
    await store.delete(KEY)  # deleting what is gone is no error


async def test_a_key_is_a_name_and_nothing_more(store: MediaStore) -> None:
    for bad in ("../../etc/passwd", "a/b", "", "x" * 129, "photo.jpg"):
        with pytest.raises(ValueError, match="not a photo key"):
            await store.put(bad, PHOTO)


async def test_the_same_photo_kept_twice_is_one_object(store: MediaStore, tmp_path: Path) -> None:
    await store.put(KEY, PHOTO)
    await store.put(KEY, PHOTO)  # a replayed update, or two workers given it at once
    await asyncio.gather(store.put("other", PHOTO), store.put("other", PHOTO))
    assert await store.get(KEY) == PHOTO
    if isinstance(store, LocalMediaStore):
        assert sorted(p.name for p in (tmp_path / "media").iterdir()) == [f"{KEY}.jpg", "other.jpg"]
    elif isinstance(store, DatabaseMediaStore):
        async with store.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(MediaBlob)) == 2
            row = await session.get(MediaBlob, KEY)
        assert row is not None
        assert (row.size, row.sha256) == (len(PHOTO), hashlib.sha256(PHOTO).hexdigest())
    else:
        assert isinstance(store, S3MediaStore)
        s3 = await store._s3()
        listed = await s3.list_objects_v2(Bucket=store.options.bucket)
        assert [o["Key"] for o in listed["Contents"]] == [f"photos/{KEY}.jpg", "photos/other.jpg"]
        head = await s3.head_object(Bucket=store.options.bucket, Key=f"photos/{KEY}.jpg")
        assert head["Metadata"] == {"sha256": hashlib.sha256(PHOTO).hexdigest()}


async def test_where_names_the_place_kept_in_the_evidence_row(store: MediaStore) -> None:
    where = store.where(KEY)
    if isinstance(store, LocalMediaStore):
        assert where == str(store.folder / f"{KEY}.jpg")
    elif isinstance(store, DatabaseMediaStore):
        assert where == f"database:{KEY}"
    else:
        assert isinstance(store, S3MediaStore)
        assert where == f"s3://{store.options.bucket}/photos/{KEY}.jpg"


async def test_a_store_knows_its_own_places_and_the_key_is_read_from_any(
    store: MediaStore, tmp_path: Path
) -> None:
    """How erasure and retention find a photo from its row (docs/privacy.md): the key from the
    place whichever store named it; the place as this store's own or another's."""
    own = store.where(KEY)
    places = [
        str(tmp_path / "another-folder" / f"{KEY}.jpg"),
        f"database:{KEY}",
        f"s3://another-bucket/photos/{KEY}.jpg",
    ]
    assert key_in(own) == KEY and store.keeps(own)
    for place in places:
        assert key_in(place) == KEY
        assert store.keeps(place) is (place == own)
    for nothing in ("database:", "s3://bucket/photos/", "/var/media/a.png.jpg", "x:y/a b.jpg"):
        assert key_in(nothing) is None and not store.keeps(nothing)


def test_the_default_relative_folder_keeps_its_absolute_places(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = LocalMediaStore(Path("media"))
    assert relative.keeps(str(tmp_path / "media" / f"{KEY}.jpg"))
    assert LocalMediaStore(tmp_path / "media").keeps(f"media/{KEY}.jpg")
    assert not relative.keeps(str(tmp_path / "other" / f"{KEY}.jpg"))


# -- another worker --------------------------------------------------------------------------

READER = """
import asyncio, hashlib, os, sys
from bot.storage.database import Database
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.s3 import S3MediaStore, S3Options

ACCESS, SECRET = os.environ["TEST_S3_ACCESS"], os.environ["TEST_S3_SECRET"]

async def main(kind, where, schema, key):
    if kind == "database":
        db = Database(where, schema=schema or None)
        store = DatabaseMediaStore(db)
    else:
        endpoint, bucket = where.rsplit("/", 1)
        store = S3MediaStore(S3Options(bucket=bucket, endpoint_url=endpoint, region="us-east-1",
            access_key_id=ACCESS, secret_access_key=SECRET, addressing_style="path"))
    data = await store.get(key)
    await store.close()
    if kind == "database":
        await db.dispose()
    print(hashlib.sha256(data).hexdigest() if data is not None else "missing")

asyncio.run(main(*sys.argv[1:]))
"""


def read_in_another_process(kind: str, where: str, schema: str, key: str) -> str:
    """What a worker of its own (another process, its own connections) reads under `key`."""
    done = subprocess.run(
        [sys.executable, "-c", READER, kind, where, schema, key],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parent.parent,
        env={
            **os.environ,
            "TEST_S3_ACCESS": KEYS["access_key_id"],
            "TEST_S3_SECRET": KEYS["secret_access_key"],
        },
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_a_photo_kept_in_the_database_by_one_worker_is_read_by_another(
    db: Database,
) -> None:
    await DatabaseMediaStore(db).put(KEY, PHOTO)
    url = db.url.render_as_string(hide_password=False)
    read = await asyncio.to_thread(read_in_another_process, "database", url, db.schema or "", KEY)
    assert read == hashlib.sha256(PHOTO).hexdigest()
    missing = await asyncio.to_thread(
        read_in_another_process, "database", url, db.schema or "", "never-kept"
    )
    assert missing == "missing"


async def test_a_photo_kept_in_the_bucket_by_one_worker_is_read_by_another(
    s3_endpoint: str,
) -> None:
    store = await new_bucket(s3_endpoint)
    await store.put(KEY, PHOTO)
    await store.close()
    where = f"{s3_endpoint}/{store.options.bucket}"
    read = await asyncio.to_thread(read_in_another_process, "s3", where, "", KEY)
    assert read == hashlib.sha256(PHOTO).hexdigest()


# -- failures --------------------------------------------------------------------------------


async def test_a_bucket_that_does_not_answer_is_unavailable_soon_and_says_where() -> None:
    store = S3MediaStore(s3_options(f"http://127.0.0.1:{free_port()}", "photos"))
    started = time.monotonic()
    for call in (store.put(KEY, PHOTO), store.exists(KEY), store.get(KEY), store.check()):
        with pytest.raises(MediaUnavailableError, match="bucket 'photos'") as caught:
            await call
        assert KEYS["secret_access_key"] not in str(caught.value)
    assert time.monotonic() - started < 30  # botocore's own tries, not a long wait
    await store.close()


async def test_a_missing_bucket_fails_the_check_at_start(s3_endpoint: str) -> None:
    store = S3MediaStore(s3_options(s3_endpoint, "no-such-bucket"))
    with pytest.raises(MediaUnavailableError, match="no-such-bucket"):
        await store.check()
    await store.close()


async def test_a_media_folder_that_cannot_be_written_fails_the_check(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = LocalMediaStore(blocker / "media")
    with pytest.raises(MediaUnavailableError, match="RETURNDESK_TELEGRAM_MEDIA_DIR"):
        await store.check()
    with pytest.raises(MediaUnavailableError, match="cannot keep a photo"):
        await store.put(KEY, PHOTO)


# -- settings --------------------------------------------------------------------------------


def test_the_backend_is_chosen_by_a_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert isinstance(open_media(read(MediaSettings), db, tmp_path), LocalMediaStore)
    monkeypatch.setenv("RETURNDESK_MEDIA_BACKEND", "database")
    assert isinstance(open_media(read(MediaSettings), db, tmp_path), DatabaseMediaStore)
    monkeypatch.setenv("RETURNDESK_MEDIA_BACKEND", "s3")
    with pytest.raises(SettingsError, match=r"RETURNDESK_MEDIA_S3_BUCKET: .*must be set"):
        read(MediaSettings)
    monkeypatch.setenv("RETURNDESK_MEDIA_S3_BUCKET", "shop-photos")
    monkeypatch.setenv("RETURNDESK_MEDIA_S3_ENDPOINT_URL", "https://storage.example")
    monkeypatch.setenv("RETURNDESK_MEDIA_S3_SECRET_ACCESS_KEY", "hunter2")
    settings = read(MediaSettings)
    assert "hunter2" not in repr(settings)
    s3 = open_media(settings, db, tmp_path)
    assert isinstance(s3, S3MediaStore)
    assert s3.options.secret_access_key == "hunter2"
    assert s3.where(KEY) == f"s3://shop-photos/photos/{KEY}.jpg"
    monkeypatch.setenv("RETURNDESK_MEDIA_BACKEND", "ftp")
    with pytest.raises(SettingsError, match="RETURNDESK_MEDIA_BACKEND"):
        read(MediaSettings)


async def test_run_with_a_bucket_it_cannot_reach_refuses_to_start_and_says_why(
    tmp_path: Path,
) -> None:
    secret = "s3-secret-never-shown"
    env = {
        **os.environ,
        "RETURNDESK_TELEGRAM_TOKEN": "123456:test-token",
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "RETURNDESK_MEDIA_BACKEND": "s3",
        "RETURNDESK_MEDIA_S3_BUCKET": "shop-photos",
        "RETURNDESK_MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "RETURNDESK_MEDIA_S3_REGION": "us-east-1",
        "RETURNDESK_MEDIA_S3_ACCESS_KEY_ID": "returndesk",
        "RETURNDESK_MEDIA_S3_SECRET_ACCESS_KEY": secret,
        "COLUMNS": "300",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", "--config", str(TEST_SHOP)),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    said = out.decode()
    assert process.returncode == 2, said
    assert "the media store (s3) cannot keep photos" in said
    assert "shop-photos" in said
    assert "Traceback" not in said and secret not in said
