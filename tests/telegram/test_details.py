"""The Telegram details users hit: the webhook's secret, HTML that Telegram must accept, photos
and files, long texts, command menus, stopping cleanly, and clear errors at start."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config.settings import TelegramSettings
from bot.engine.events import Author, Upload
from bot.runtime.outbox.transport import Outbound
from bot.runtime.telegram.service import make_adapter
from bot.sandbox.people import Participant
from bot.storage.database import Database
from bot.storage.media.local import LocalMediaStore
from bot.storage.models import Evidence
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import WEBHOOK_SECRET, Mode, TelegramChannel, running_bot
from tests.desk import TEST_SHOP, Desk, shop_without_support_group

ANNA = Author(101, "Anna", "en")


@pytest.mark.parametrize("secret", [None, "wrong", WEBHOOK_SECRET[:-1]])
async def test_a_webhook_call_without_the_right_secret_is_refused_and_logged(
    app: App,
    server: FakeBotAPI,
    tmp_path: Path,
    secret: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mode = Mode("aiogram", webhook=True)
    async with running_bot(app, server, mode, media_dir=tmp_path):
        assert server.webhook is not None
        update = server.text_update(server.user(101, "Anna", "en"), "/start")
        update["update_id"] = 999
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        with caplog.at_level(logging.WARNING):
            async with (
                aiohttp.ClientSession() as http,
                http.post(server.webhook.url, json=update, headers=headers) as answer,
            ):
                assert answer.status == 401
    assert "wrong or missing secret" in caplog.text
    assert server.messages_for(101) == []


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_a_webhook_body_that_is_not_an_update_gets_400_and_the_bot_goes_on(
    app: App, server: FakeBotAPI, tmp_path: Path, transport: str
) -> None:
    bodies = [b"not json", b"[]", b"{}", b'{"update_id": 7, "message": "x"}']
    bodies.append(b'{"update_id": 8, "message": {"text": "no chat, no date"}}')
    async with running_bot(app, server, Mode(transport, webhook=True), media_dir=tmp_path):
        assert server.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with aiohttp.ClientSession() as http:
            for body in bodies:
                async with http.post(server.webhook.url, data=body, headers=headers) as answer:
                    assert answer.status == 400, body
        await TelegramChannel(app, server).text(ANNA, 101, "/start", None)
    assert "What do you need?" in server.messages_for(101)[-1].plain


async def test_hostile_names_and_text_never_make_telegram_reject_a_reply(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    async with running_bot(app, server, Mode("ptb", webhook=False), media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        hostile = Author(101, '<b>Eve</b> & <a href="x">co</a> &amp;', "en")
        await channel.text(hostile, 101, "/start", None)
        await channel.text(hostile, 101, "<i>unclosed & <script>", None)
    welcome = server.messages_for(101)[0]
    assert welcome.plain.startswith('Hello, <b>Eve</b> & <a href="x">co</a> &amp;!')
    assert all(m.parse_mode == "HTML" for m in server.messages_for(101))


async def at_the_photo_step(desk: Desk) -> Participant:
    """Anna, asked for photos of her defective kettle (5000 RUB: above the limit, so the case
    goes to the seller once she is done)."""
    anna = desk.buyer("anna")
    order = await desk.order(items=[("Kettle", 1, "5000")])
    await anna.send("/start")
    await anna.tap("menu_problem")
    await anna.click(f"#{order.number}")
    await anna.tap("reason", reason="defect")
    await anna.tap("want", want="keep")
    return anna


async def test_photos_are_downloaded_size_checked_and_kept_as_evidence(
    db: object, clock: object, tmp_path: Path
) -> None:
    async with Desk.on_telegram(
        db, clock, tmp_path, Mode("aiogram", webhook=False), max_photo_bytes=100_000
    ) as desk:  # type: ignore[arg-type]
        anna = await at_the_photo_step(desk)
        await anna.send_photo(size=150_000)
        assert "too large for me to keep: I keep photos up to 0.1 MB" in anna.inbox[-2].plain
        await anna.send_unsupported("document")
        assert "can't use that kind of message" in anna.inbox[-2].plain
        await anna.send_photo(size=60_000)
        assert "1 photo so far" in anna.last.plain
        async with desk.db.session() as session:
            [kept] = (await session.scalars(select(Evidence))).all()
        assert kept.stored_path is not None
        assert Path(kept.stored_path).stat().st_size == 60_000
        await anna.tap("photos_done")
        dora = desk.staff("dora")
        assert dora.last.photos == (kept.file_id,)  # the seller sees the buyer's photo


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_an_image_sent_as_a_file_reaches_the_seller_as_a_file_with_the_question(
    db: object, clock: object, tmp_path: Path, transport: str
) -> None:
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:  # type: ignore[arg-type]
        server = desk.telegram.server
        anna = await at_the_photo_step(desk)
        await anna.send_photo(size=60_000)
        user = server.user(anna.author.id, "Anna", "en")
        scan = server.document_update(user, mime_type="image/png", size=40_000, file_name="a.png")
        await server.wait_delivered(await server.push_update(scan))
        await desk.telegram.settled()
        assert "2 photos so far" in anna.last.plain
        await anna.tap("photos_done")
        async with desk.db.session() as session:
            kept = [e.file_id for e in (await session.scalars(select(Evidence))).all()]
        dora = desk.staff("dora")
        # Telegram would refuse the file as a photo, and with it the group: the photo goes out
        # as a photo, the file as a document, and the question with its buttons after them.
        assert dora.last.photos == tuple(kept) and dora.last.buttons
        sent = {m.method for m in server.messages_for(dora.chat_id)}
        assert {"sendPhoto", "sendDocument"} <= sent


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_a_picture_file_over_the_limit_is_asked_for_as_a_photo(
    db: object, clock: object, tmp_path: Path, transport: str
) -> None:
    async with Desk.on_telegram(
        db, clock, tmp_path, Mode(transport, webhook=False), max_photo_bytes=100_000
    ) as desk:  # type: ignore[arg-type]
        server = desk.telegram.server
        anna = await at_the_photo_step(desk)
        user = server.user(anna.author.id, "Anna", "en")
        scan = server.document_update(user, mime_type="image/png", size=150_000, file_name="a.png")
        await server.wait_delivered(await server.push_update(scan))
        await desk.telegram.settled()
        told = anna.inbox[-2].plain
        assert "picture file is too large for me to keep: I keep pictures up to 0.1 MB." in told
        assert "send it as a photo rather than as a file" in told


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_a_photo_telegram_will_not_hand_over_is_answered_and_the_next_one_kept(
    db: object, clock: object, tmp_path: Path, transport: str
) -> None:
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:  # type: ignore[arg-type]
        anna = await at_the_photo_step(desk)
        desk.telegram.server.fail_next("getFile", "gone")
        await anna.send_photo(size=60_000)  # would wait for ever if the refusal were retried
        assert "couldn't get that picture from Telegram" in anna.inbox[-2].plain
        async with desk.db.session() as session:
            assert (await session.scalars(select(Evidence))).all() == []
        await anna.send_photo(size=60_000)
        assert "1 photo so far" in anna.last.plain


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_a_photo_that_cannot_be_downloaded_is_answered_without_the_token_in_the_log(
    db: object, clock: object, tmp_path: Path, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Desk.on_telegram(db, clock, tmp_path, Mode(transport, webhook=False)) as desk:  # type: ignore[arg-type]
        server = desk.telegram.server
        anna = desk.buyer("anna")
        await desk.order(items=[("Kettle", 1, "5000")])
        await anna.send("/start")
        server.break_downloads()
        with caplog.at_level(logging.INFO, logger="bot"):  # ReturnDesk's own log
            await anna.send_photo(size=60_000)
        assert "couldn't get that picture from Telegram" in anna.last.plain
    assert "downloading the file failed: HTTP 404" in caplog.text or "Not Found" in caplog.text
    assert server.token not in caplog.text


async def test_a_text_longer_than_telegram_allows_goes_out_in_parts(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=tmp_path)
    for transport in ("aiogram", "ptb"):
        adapter = make_adapter(transport, settings, LocalMediaStore(settings.media_dir))
        await adapter.start()
        lines = [f"<b>line {n}</b> &amp; " + "x" * 80 for n in range(120)]
        buttons = [[{"text": "OK", "data": "ok:1"}]]
        await adapter.deliver(Outbound(1, 101, None, "\n".join(lines), buttons, None))
        await adapter.close()
    sent = server.messages_for(101)
    assert len(sent) == 8  # 120 lines of 100 characters: four parts each time, under 4096
    for parts in (sent[:4], sent[4:]):
        assert "\n".join(m.plain for m in parts).count("line ") == 120
        assert [bool(m.buttons) for m in parts] == [False, False, False, True]


async def test_files_the_bot_made_are_uploaded_as_an_album_and_a_document(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=tmp_path)
    charts = [Upload("photo", f"chart{n}.png", b"\x89PNG chart %d" % n) for n in range(11)]
    csv = Upload("document", "report-2026-11.csv", b"seller,cases\nacme,12\n")
    files = [upload.to_json() for upload in (*charts, csv)]
    for transport in ("aiogram", "ptb"):
        adapter = make_adapter(transport, settings, LocalMediaStore(settings.media_dir))
        await adapter.start()
        row = Outbound(1, 101, None, "<b>November</b>", None, None, files=files)
        await adapter.deliver(row)
        await adapter.close()
    sent = server.messages_for(101)
    assert len(sent) == 26
    for one in (sent[:13], sent[13:]):
        # Telegram's albums hold at most 10: the eleventh chart goes alone.
        assert [m.method for m in one] == ["sendMessage"] + ["sendMediaGroup"] * 10 + [
            "sendPhoto",
            "sendDocument",
        ]
        document = one[12].telegram_fields["document"]
        assert (document["file_name"], document["mime_type"]) == ("report-2026-11.csv", "text/csv")
        assert server.file_content(document["file_id"]) == csv.content
        assert one[0].plain == "November"


async def test_command_menus_are_set_per_language_and_for_deciders(
    app: App, server: FakeBotAPI, tmp_path: Path
) -> None:
    async with running_bot(app, server, Mode("ptb", webhook=False), media_dir=tmp_path):
        pass
    by_language = {
        language: [c["command"] for c in commands]
        for (scope, language), commands in server.commands.items()
        if '"default"' in scope
    }
    assert by_language == {
        lang: ["start", "orders", "language", "cancel", "help", "forget"]
        for lang in (None, "en", "ru", "zh")
    }
    ru = next(c for (scope, lang), c in server.commands.items() if lang == "ru")
    assert ru[0]["description"] == "Меню: проблемы, возвраты, отмены"
    chats = {scope: c for (scope, _), c in server.commands.items() if '"chat"' in scope}
    assert len(chats) == 5  # Dora, Dmitri (Acme), Li Wei (in Chinese), Nina, the support group
    li = next(c for scope, c in chats.items() if "601" in scope)
    assert {"command": "pending", "description": "等待您处理的决定"} in li
    assert li[-1] == {"command": "report", "description": "上月报告（/report current：本月）"}
    desk = next(c for scope, c in chats.items() if "-1001000000001" in scope)
    assert [c["command"] for c in desk] == [
        "queue",
        "take",
        "offer",
        "refund",
        "handback",
        "resolve",
        "rebind",
        "report",
    ]


async def test_with_no_support_group_each_member_gets_the_desk_menu(
    db: Database, clock: FakeClock, server: FakeBotAPI, tmp_path: Path
) -> None:
    config = shop_without_support_group(tmp_path)
    app = await build_app(db=db, config=config, clock=clock, migrate=False)
    try:
        async with running_bot(app, server, Mode("aiogram", webhook=False), media_dir=tmp_path):
            pass
    finally:
        await app.close()
    chats = {scope: c for (scope, _), c in server.commands.items() if '"chat"' in scope}
    sam = next(c for scope, c in chats.items() if "901" in scope)
    commands = [c["command"] for c in sam]
    assert {"start", "queue", "take", "offer", "refund", "handback", "resolve"} <= set(commands)
    assert sam[-1]["description"] == "Pick the case to work on"


async def test_stopping_finishes_the_update_in_hand_and_flushes_the_outbox(
    app: App, server: FakeBotAPI, mode: Mode, tmp_path: Path
) -> None:
    async with running_bot(app, server, mode, media_dir=tmp_path):
        update_id = await server.push_update(
            server.text_update(server.user(101, "Anna", "en"), "/start")
        )
        await server.wait_delivered(update_id)
    # The block's end stopped the bot; whatever was owed went out before it returned.
    assert "What do you need?" in server.messages_for(101)[-1].plain


async def returndesk_run(env: dict[str, str], cwd: Path, *options: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        *options,
        "--config",
        str(TEST_SHOP),
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_the_running_bots_log_never_shows_the_token(
    server: FakeBotAPI, tmp_path: Path, transport: str
) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": server.token,
        "RETURNDESK_TELEGRAM_API_URL": server.base_url,
        "RETURNDESK_TELEGRAM_MEDIA_DIR": str(tmp_path / "media"),
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", "--transport", transport),
        *("--config", str(TEST_SHOP)),
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        anna = server.user(101, "Anna", "en")
        await server.push_update(server.text_update(anna, "/start"))
        server.break_downloads()  # an error whose text, as the library words it, has the URL
        await server.push_update(server.photo_update(anna))
        for _ in range(600):
            if any("couldn't get that picture" in m.plain for m in server.messages_for(101)):
                break
            await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    log = out.decode()
    assert "refused file" in log  # the log did speak of the failure
    assert server.token not in log and server.token.split(":")[1] not in log


async def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    code, out = await returndesk_run({"RETURNDESK_TELEGRAM_TOKEN": ""}, tmp_path)
    assert code == 2 and "RETURNDESK_TELEGRAM_TOKEN is not set" in out and "Traceback" not in out


async def test_run_with_a_token_telegram_refuses_says_so(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "999:WRONG",
        "RETURNDESK_TELEGRAM_API_URL": server.base_url,
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "Telegram refused the token" in out and "Traceback" not in out


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_run_with_a_bot_api_it_cannot_reach_says_so(tmp_path: Path, transport: str) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "4242:never-shown",
        "RETURNDESK_TELEGRAM_API_URL": "http://127.0.0.1:1",  # nothing listens on port 1
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path, "--transport", transport)
    assert code == 2 and "cannot reach the Bot API at http://127.0.0.1:1" in out
    assert "Traceback" not in out and "never-shown" not in out


@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_run_that_telegram_refuses_to_set_up_says_so(
    server: FakeBotAPI, tmp_path: Path, transport: str
) -> None:
    server.fail_next("setMyCommands", "gone", times=100)  # any 400 to a call made at start
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": server.token,
        "RETURNDESK_TELEGRAM_API_URL": server.base_url,
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path, "--transport", transport)
    assert code == 2 and "Telegram refused to set the bot up" in out
    assert "Traceback" not in out and server.token not in out


async def test_run_with_an_unreachable_database_says_so(tmp_path: Path) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "1:x",
        "RETURNDESK_DATABASE_URL": "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none",
    }
    code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "cannot reach the database" in out and "Traceback" not in out
    assert "secret" not in out  # the password is not printed


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RETURNDESK_TELEGRAM_WEBHOOK_SECRET", "not allowed!"),  # Telegram would refuse it
        ("RETURNDESK_TELEGRAM_WEBHOOK_PATH", "telegram/webhook"),
        ("RETURNDESK_TELEGRAM_WEBHOOK_PORT", "eighty"),
        ("RETURNDESK_SENDER_GLOBAL_PER_SECOND", "0"),
        ("RETURNDESK_TELEGRAM_API_URL", "localhost:8081"),
    ],
)
async def test_a_setting_that_cannot_work_is_named_at_start(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "1:x",
        "RETURNDESK_TELEGRAM_WEBHOOK_URL": "https://example.com",
        "RETURNDESK_TELEGRAM_WEBHOOK_SECRET": "right-one",
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        variable: value,
    }
    code, out = await returndesk_run(env, tmp_path)
    # One problem is one line ("Cannot start: VARIABLE: why"); several are listed under a heading.
    assert code == 2 and f"Cannot start: {variable}: " in out and "Traceback" not in out
    assert "alembic" not in out  # told before the database is touched
    if variable.endswith("SECRET"):
        assert value not in out


async def test_a_media_folder_that_cannot_be_written_is_named_at_start(tmp_path: Path) -> None:
    (tmp_path / "media").write_text("a file where the folder should be")
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "1:x",
        "RETURNDESK_TELEGRAM_MEDIA_DIR": str(tmp_path / "media"),
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "RETURNDESK_TELEGRAM_MEDIA_DIR" in out and "Traceback" not in out


@pytest.mark.parametrize("url", ["not a url", "mysql://shop@127.0.0.1/returns"])
async def test_a_database_url_returndesk_cannot_use_is_named_at_start(
    tmp_path: Path, url: str
) -> None:
    env = {"RETURNDESK_TELEGRAM_TOKEN": "1:x", "RETURNDESK_DATABASE_URL": url}
    code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "RETURNDESK_DATABASE_URL" in out and "Traceback" not in out


async def test_a_webhook_port_in_use_is_said_at_start(server: FakeBotAPI, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_WEBHOOK_URL": "https://example.com",
            "RETURNDESK_TELEGRAM_WEBHOOK_SECRET": "right-one",
            "RETURNDESK_TELEGRAM_WEBHOOK_PORT": str(taken.getsockname()[1]),
            "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        }
        code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "cannot serve the webhook on 127.0.0.1:" in out
    assert "Traceback" not in out


async def test_webhook_mode_needs_a_secret(tmp_path: Path) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "1:x",
        "RETURNDESK_TELEGRAM_WEBHOOK_URL": "https://example.com",
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path)
    assert code == 2 and "RETURNDESK_TELEGRAM_WEBHOOK_SECRET must be set" in out
