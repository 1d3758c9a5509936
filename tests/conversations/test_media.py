"""A buyer's photo kept in a store shared by every worker (the database or an S3 bucket),
through the engine and both frameworks; a store that stops answering (docs/operations.md,
"Media")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.storage.database import Database
from bot.storage.media import MediaStore
from bot.storage.media.database import DatabaseMediaStore
from bot.storage.media.s3 import S3MediaStore
from bot.storage.models import Case, Evidence, MediaBlob
from bot.testing.telegram import Mode
from tests.desk import Desk
from tests.media_servers import new_bucket, s3_server


@asynccontextmanager
async def desk_on(
    db: Database, clock: FakeClock, workdir: Path, channel: str, media: MediaStore
) -> AsyncIterator[Desk]:
    if channel == "engine":
        desk = await Desk.open(db, clock, workdir, media=media)
        try:
            yield desk
        finally:
            await desk.close()
        return
    async with Desk.on_telegram(db, clock, workdir, Mode.parse(channel), media=media) as desk:
        yield desk


async def another_worker(db: Database, media: MediaStore) -> tuple[Database, MediaStore]:
    """A store of its own (its own connections), as another worker opens it."""
    if isinstance(media, DatabaseMediaStore):
        other = Database(db.url.render_as_string(hide_password=False), schema=db.schema)
        return other, DatabaseMediaStore(other)
    assert isinstance(media, S3MediaStore)
    return db, S3MediaStore(media.options)


async def at_the_photo_step(desk: Desk) -> None:
    """Anna, asked for photos of her defective kettle (5000 RUB: the seller decides)."""
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Kettle", 1, "5000")])
    await anna.send("/start")
    await anna.tap("menu_problem")
    await anna.click(f"#{order.number}")
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    assert "photo" in anna.last.plain


async def evidence(db: Database) -> list[Evidence]:
    async with db.session() as session:
        return list((await session.scalars(select(Evidence).order_by(Evidence.id))).all())


@pytest.mark.parametrize("kind", ["database", "s3"])
async def test_a_photo_goes_to_the_shared_store_and_another_worker_reads_it(
    db: Database, *, clock: FakeClock, tmp_path: Path, channel: str, kind: str, s3_endpoint: str
) -> None:
    media = DatabaseMediaStore(db) if kind == "database" else await new_bucket(s3_endpoint)
    async with desk_on(db, clock, tmp_path, channel, media) as desk:
        await at_the_photo_step(desk)
        anna = desk.buyer("anna")
        await anna.send_photo(size=60_000)
        assert "1 photo so far" in anna.last.plain
        [kept] = await evidence(desk.db)
        assert kept.stored_path == media.where(kept.file_unique_id)
        other_db, other = await another_worker(db, media)
        try:
            data = await other.get(kept.file_unique_id)
        finally:
            await other.close()
            if other_db is not db:
                await other_db.dispose()
        assert data is not None
        assert len(data) == 60_000
        assert data.startswith(b"\xff\xd8")
        await anna.tap("photos_done")
        assert desk.staff("dora").last.photos == (kept.file_id,)
    assert not (tmp_path / "media").exists()  # nothing on this worker's disk


async def test_a_bucket_that_stops_answering_gets_a_clear_answer_and_loses_nothing(
    db: Database, clock: FakeClock, tmp_path: Path, channel: str
) -> None:
    with s3_server() as server:
        media = await new_bucket(server.endpoint)
        async with desk_on(db, clock, tmp_path, channel, media) as desk:
            await at_the_photo_step(desk)
            anna = desk.buyer("anna")
            await anna.send_photo(size=60_000)
            assert "1 photo so far" in anna.last.plain
            async with desk.db.session() as session:
                before = (await session.scalars(select(Case.state))).one()
            server.stop()  # the bucket goes away mid-conversation
            await anna.send_photo(size=70_000)
            [answer] = [m.plain for m in anna.inbox[-2:] if "couldn't keep that photo" in m.plain]
            assert "Please send it again in a few minutes" in answer
            assert "Everything else you've told me is kept" in answer
            [kept] = await evidence(desk.db)  # the first photo, and no row for the second
            async with desk.db.session() as session:
                assert (await session.scalars(select(Case.state))).one() == before
            await anna.tap("photos_done")  # the conversation goes on with what was kept
            assert desk.staff("dora").last.photos == (kept.file_id,)


@pytest.mark.parametrize("mode", ["aiogram-webhook", "ptb-polling"])
async def test_a_photo_telegram_delivers_again_is_downloaded_and_written_once(
    db: Database, clock: FakeClock, tmp_path: Path, mode: str
) -> None:
    media = DatabaseMediaStore(db)
    async with Desk.on_telegram(db, clock, tmp_path, Mode.parse(mode), media=media) as desk:
        await at_the_photo_step(desk)
        server = desk.telegram.server
        update = server.photo_update(server.user(101, "Anna", "en"), size=60_000)
        update["update_id"] = server.next_update_id()
        for _ in range(3):  # Telegram sends it again when it saw no answer
            await server.wait_delivered(await server.push_update(update))
            await desk.telegram.settled()
        assert server.calls["getFile"] == 1
        [kept] = await evidence(desk.db)
        async with desk.db.session() as session:
            stored = (await session.scalars(select(MediaBlob.key))).all()
        assert stored == [kept.file_unique_id]
