"""Bad input from outside that once ended in a traceback: webhook bodies that are not updates, an
oversized secret header, a malformed token, a Bot API address with a password, and button
answers Telegram did not take at the first try."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.config.settings import TelegramSettings
from bot.engine.events import Author
from bot.runtime.outbox.transport import PermanentError
from bot.runtime.telegram.service import make_adapter
from bot.storage.media.local import LocalMediaStore
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import WEBHOOK_SECRET, Mode, TelegramChannel, running_bot
from tests.telegram.test_details import returndesk_run

ANNA = Author(101, "Anna", "en")
TRANSPORTS = ["aiogram", "ptb"]
NOT_UPDATES = [
    b"[" * 50_000,  # json.loads recurses once a level
    b'{"update_id": "x"}',
    b'{"update_id": "7"}',  # aiogram would read it as 7, python-telegram-bot as a string
    b'{"update_id": 7.0}',
    b'{"update_id": true}',
    b'{"update_id": 100000000000000000000000000000}',
    b'{"update_id": 9, "message": {"message_id": 1, "date": 1, "text": "hi",'
    b' "chat": {"id": "x", "type": "private"}, "from": {"id": 1, "is_bot": false,'
    b' "first_name": "A"}}}',
    b'{"update_id": 10, "message": {"message_id": 1, "date": 1, "text": "hi",'
    b' "chat": {"id": 100000000000000000000, "type": "private"}, "from": {"id": 1,'
    b' "is_bot": false, "first_name": "A"}}}',
    b'{"update_id": 11, "message": {"message_id": 1, "date": 1, "text": 5,'
    b' "chat": {"id": 1, "type": "private"}, "from": {"id": 1, "is_bot": false,'
    b' "first_name": "A"}}}',
]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_webhook_body_telegram_could_not_have_sent_gets_400_on_both_frameworks(
    app: App, server: FakeBotAPI, tmp_path: Path, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(app, server, Mode(transport, webhook=True), media_dir=tmp_path):
        assert server.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        with caplog.at_level(logging.INFO):
            async with aiohttp.ClientSession() as http:
                for body in NOT_UPDATES:
                    async with http.post(server.webhook.url, data=body, headers=headers) as answer:
                        assert answer.status == 400, body[:60]
        await TelegramChannel(app, server).text(ANNA, 101, "/start", None)
    assert "What do you need?" in server.messages_for(101)[-1].plain
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_oversized_secret_header_is_refused_with_one_line_and_no_traceback(
    app: App, server: FakeBotAPI, tmp_path: Path, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(app, server, Mode(transport, webhook=True), media_dir=tmp_path):
        assert server.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s" * 65_536}
        with caplog.at_level(logging.INFO):
            async with (
                aiohttp.ClientSession() as http,
                http.post(server.webhook.url, json={"update_id": 1}, headers=headers) as answer,
            ):
                assert answer.status in (400, 401, 431)
    refused = [r for r in caplog.records if "could not read" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "sss" not in caplog.text


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("token", ["abc", "123:x y", "123456", ":ABC", "12a:ABC"])
async def test_a_malformed_token_is_one_line_and_exit_2_on_both_frameworks(
    server: FakeBotAPI, tmp_path: Path, transport: str, token: str
) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": token,
        "RETURNDESK_TELEGRAM_API_URL": server.base_url,
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path, "--transport", transport)
    assert code == 2 and "Traceback" not in out, out
    assert "RETURNDESK_TELEGRAM_TOKEN is not a bot token" in out
    assert len(out.strip().splitlines()) == 1
    if len(token) > 3:
        assert token not in out


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_bot_api_address_is_shown_without_its_user_and_password(
    tmp_path: Path, transport: str
) -> None:
    env = {
        "RETURNDESK_TELEGRAM_TOKEN": "4242:never-shown",
        "RETURNDESK_TELEGRAM_API_URL": "http://proxyuser:hunter2@127.0.0.1:9/",  # nothing there
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    code, out = await returndesk_run(env, tmp_path, "--transport", transport)
    assert code == 2 and "cannot reach the Bot API at http://***:***@127.0.0.1:9/" in out, out
    assert "hunter2" not in out and "proxyuser" not in out and "Traceback" not in out


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", ["429", "500", "502", "drop"])
async def test_a_button_answer_telegram_did_not_take_is_tried_again(
    app: App, server: FakeBotAPI, tmp_path: Path, transport: str, fault: str
) -> None:
    async with running_bot(app, server, Mode(transport, webhook=False), media_dir=tmp_path):
        channel = TelegramChannel(app, server)
        await channel.text(ANNA, 101, "/start", None)
        server.fail_next("answerCallbackQuery", fault, times=2, retry_after=1)
        await channel.press(ANNA, 101, "zz:not-a-payload", None, None)
        for _ in range(400):  # the retries wait up to a few seconds
            if server.callback_answers:
                break
            await asyncio.sleep(0.01)
    [answer] = server.callback_answers.values()
    assert answer.text is not None and answer.text.startswith("That button belongs to")
    assert server.calls["answerCallbackQuery"] == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_button_answer_telegram_refuses_is_not_tried_again(
    server: FakeBotAPI, tmp_path: Path, transport: str
) -> None:
    from bot.runtime.telegram.answers import answer_callback

    settings = TelegramSettings(token=server.token, api_url=server.base_url, media_dir=tmp_path)
    adapter = make_adapter(transport, settings, LocalMediaStore(settings.media_dir))
    await adapter.start()
    try:
        with pytest.raises(PermanentError, match=r"(?i)query is too old"):
            await adapter.answer_callback("4000000000000000001", "late")
        await answer_callback(adapter, "4000000000000000001", "late")  # logged, not raised
    finally:
        await adapter.close()
    assert server.calls["answerCallbackQuery"] == 2
