"""RETURNDESK_LOG_FORMAT=json on a running bot: one JSON object a line, with the chat where it
is known, and never the token or what a person wrote (docs/operations.md#logs)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import free_port
from tests.desk import TEST_SHOP

# Shaped as @BotFather's tokens are: the log must hide it however it reaches a line.
TOKEN = "7012345678:AAH3x9Yq-Zr2Lw8VtK_c5Nd0Pj6Fs1Gm4Bo"
WRITTEN = "my kettle whistles purple at midnight"


async def test_json_lines_with_times_and_chats_and_no_token_or_text(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotAPI(token=TOKEN) as server:
        env = {
            "RETURNDESK_LOG_FORMAT": "json",
            "RETURNDESK_TELEGRAM_TOKEN": TOKEN,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_MEDIA_DIR": str(tmp_path / "media"),
            "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
            "RETURNDESK_HTTP_PORT": str(port),
        }
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "--config", str(TEST_SHOP)),
            cwd=tmp_path,
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            anna = server.user(101, "Anna", "en")
            await server.push_update(server.text_update(anna, "/start"))
            await server.push_update(server.text_update(anna, WRITTEN))
            server.break_downloads()  # a failure logged while the chat's update is tried
            await server.push_update(server.photo_update(anna))
            for _ in range(600):
                if any("couldn't get that picture" in m.plain for m in server.messages_for(101)):
                    break
                await asyncio.sleep(0.05)
            # An access line, to be left out.
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/readyz") as response,
            ):
                assert response.status == 200, await response.text()
        finally:
            process.send_signal(signal.SIGINT)
            out, _ = await asyncio.wait_for(process.communicate(), 60)
    lines = out.decode().splitlines()
    assert lines, "the bot logged nothing"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["time"].endswith("Z") and record["time"][10] == "T"
    text = out.decode()
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert TOKEN.replace(":", "%3A") not in text
    info = [r for r in records if r["level"] in {"INFO", "DEBUG"}]
    assert any("running as @" in r["message"] for r in info)
    assert not any(WRITTEN in json.dumps(r, ensure_ascii=False) for r in info)
    assert not any(r["logger"].startswith(("alembic", "aiohttp.access")) for r in records)
    about_anna = [r for r in records if r.get("chat_id") == 101]
    assert about_anna, "no line names the chat whose photo failed"
