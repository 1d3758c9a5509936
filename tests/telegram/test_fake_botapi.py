"""The fake Bot API, driven by the real clients the bot ships with: aiogram 3 and PTB 22.

If these pass, a client error seen in a bot test is one Telegram would have caused too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from aiohttp import web

from bot.testing.botapi import FakeBotAPI

ANNA = 1001
BORIS = 1002
DESK = -1001234567890  # the support supergroup, a forum
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


def aiogram_bot(api: FakeBotAPI) -> Bot:
    return Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    client = aiogram_bot(api)
    yield client
    await client.session.close()


@pytest.fixture
async def ptb(api: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    client = telegram.Bot(
        api.token, base_url=f"{api.base_url}/bot", base_file_url=f"{api.base_url}/file/bot"
    )
    async with client:
        yield client


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[row])


# --- aiogram ----------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (api.bot_id, True, "returndesk_test_bot")
    assert me.can_join_groups is True
    assert api.calls["getMe"] == 1


async def test_sent_message_is_recorded_and_returned_as_telegram_would(
    api: FakeBotAPI, bot: Bot
) -> None:
    markup = keyboard(("Accept", "offer:accept"), ("Decline", "offer:decline"))

    message = await bot.send_message(
        ANNA, "<b>Refund</b> of 5 &amp; 6", parse_mode="HTML", reply_markup=markup
    )

    assert message.message_id == 1
    assert message.text == "Refund of 5 & 6"  # Telegram answers with the parsed text...
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bold", 6)  # ...and entities
    assert message.reply_markup is not None
    assert message.reply_markup.model_dump() == markup.model_dump()
    [sent] = api.messages_for(ANNA)
    assert sent.text == "<b>Refund</b> of 5 &amp; 6"
    assert sent.plain == "Refund of 5 & 6"
    assert sent.buttons == [[("Accept", "offer:accept"), ("Decline", "offer:decline")]]
    assert api.messages_for(BORIS) == []


async def test_long_poll_answers_as_soon_as_an_update_arrives(api: FakeBotAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    assert not poll.done()

    started = time.monotonic()
    update_id = await api.push_update(api.text_update(api.user(ANNA, "Anna", "ru"), "/start"))
    [update] = await asyncio.wait_for(poll, 5)

    assert time.monotonic() - started < 2
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "/start"
    assert update.message.entities is not None and update.message.entities[0].type == "bot_command"
    assert update.message.from_user is not None and update.message.from_user.language_code == "ru"


async def test_an_offset_confirms_the_updates_before_it(api: FakeBotAPI, bot: Bot) -> None:
    anna = api.user(ANNA, "Anna")
    first = await api.push_update(api.text_update(anna, "hello"))
    second = await api.push_update(api.text_update(anna, "are you there?"))

    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    with pytest.raises(TimeoutError):
        await api.wait_delivered(first, timeout=0.1)  # served, but not confirmed yet

    assert [u.update_id for u in await bot.get_updates(offset=first + 1)] == [second]
    await api.wait_delivered(first, timeout=1)
    assert api.pending_updates() == 1


async def test_a_replayed_update_is_delivered_again(api: FakeBotAPI, bot: Bot) -> None:
    update = api.text_update(api.user(ANNA, "Anna"), "hello")
    update_id = await api.push_update(update)
    await bot.get_updates()
    await bot.get_updates(offset=update_id + 1)
    await api.wait_delivered(update_id, timeout=1)

    await api.push_update(update | {"update_id": update_id})

    assert [u.update_id for u in await bot.get_updates(offset=update_id + 1)] == [update_id]


async def test_update_types_the_bot_did_not_ask_for_never_arrive(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(ANNA, "Pick one", reply_markup=keyboard(("A", "a")))
    await bot.get_updates(allowed_updates=["message"])
    [message] = api.sent
    assert sent.message_id == message.message_id

    update_id = await api.push_update(api.callback_update(api.user(ANNA, "Anna"), message, "a"))

    with pytest.raises(TimeoutError, match="callback_query"):
        await api.wait_delivered(update_id)
    assert await bot.get_updates() == []


async def test_a_second_poller_ends_the_first_with_a_conflict(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.1)

    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)


async def test_media_group_then_a_button_press_and_its_answer(api: FakeBotAPI, bot: Bot) -> None:
    anna = api.user(ANNA, "Anna")
    photos = [api.photo_update(anna)["message"]["photo"][-1]["file_id"] for _ in range(2)]

    group = await bot.send_media_group(
        ANNA,
        [
            InputMediaPhoto(media=photos[0], caption="Is it this one?"),
            InputMediaPhoto(media=photos[1]),
        ],
    )
    question = await bot.send_message(
        ANNA, "Which one?", reply_markup=keyboard(("First", "pick:1"))
    )

    assert [m.photo is not None for m in group] == [True, True]
    assert group[0].media_group_id == group[1].media_group_id
    assert [(m.method, m.photo, m.text) for m in api.sent[:2]] == [
        ("sendMediaGroup", photos[0], "Is it this one?"),
        ("sendMediaGroup", photos[1], None),
    ]
    update_id = await api.push_update(api.callback_update(anna, api.sent[-1], "pick:1"))
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "pick:1"
    assert query.message is not None and query.message.message_id == question.message_id

    assert await bot.answer_callback_query(query.id, text="Noted") is True
    assert api.callback_answers[query.id].text == "Noted"
    assert api.callback_answers[query.id].show_alert is False
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)  # a query is answered once
    assert update.update_id == update_id


async def test_media_groups_hold_two_to_ten_items(api: FakeBotAPI, bot: Bot) -> None:
    file_id, _ = api.add_file(b"\xff\xd8 a photo")

    with pytest.raises(TelegramBadRequest, match="wrong number of media"):
        await bot.send_media_group(ANNA, [InputMediaPhoto(media=file_id)])
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(ANNA, "no-such-file")


PNG = b"\x89PNG\r\n\x1a\n a chart"


async def test_uploaded_photos_go_as_an_album_by_attach_names(api: FakeBotAPI, bot: Bot) -> None:
    charts = [
        InputMediaPhoto(media=BufferedInputFile(PNG + bytes([n]), filename=f"chart{n}.png"))
        for n in range(3)
    ]

    album = await bot.send_media_group(ANNA, charts)

    assert len(album) == 3 and len({message.media_group_id for message in album}) == 1
    assert all(message.photo and message.photo[-1].file_size == len(PNG) + 1 for message in album)
    assert [sent.method for sent in api.sent] == ["sendMediaGroup"] * 3
    # What was uploaded is kept: it can be downloaded again, like any file Telegram holds.
    file = await bot.get_file(album[1].photo[-1].file_id)  # type: ignore[index]
    content = await bot.download(file)
    assert content is not None and content.read() == PNG + bytes([1])


async def test_an_uploaded_document_keeps_its_filename(api: FakeBotAPI, bot: Bot) -> None:
    csv = b"seller,cases\nacme,12\n"

    message = await bot.send_document(
        ANNA, BufferedInputFile(csv, filename="report-2026-11.csv"), caption="November"
    )

    assert message.document is not None
    assert message.document.file_name == "report-2026-11.csv"
    assert message.document.mime_type == "text/csv"
    assert message.document.file_size == len(csv)
    assert message.caption == "November"
    # Sent again by its id, it is the same file.
    again = await bot.send_document(BORIS, message.document.file_id)
    assert again.document is not None and again.document.file_id == message.document.file_id
    with pytest.raises(TelegramBadRequest, match="file must be non-empty"):
        await bot.send_document(ANNA, BufferedInputFile(b"", filename="empty.csv"))


async def test_uploaded_albums_hold_two_to_ten_photos_too(api: FakeBotAPI, bot: Bot) -> None:
    def charts(count: int) -> list[InputMediaPhoto]:
        return [
            InputMediaPhoto(media=BufferedInputFile(PNG, filename=f"c{n}.png"))
            for n in range(count)
        ]

    for count in (1, 11):
        with pytest.raises(TelegramBadRequest, match="wrong number of media"):
            await bot.send_media_group(ANNA, charts(count))
    assert len(await bot.send_media_group(ANNA, charts(10))) == 10
    # A photo over Telegram's 10 MB limit is refused.
    big = BufferedInputFile(PNG + bytes(10 * 1024 * 1024), filename="big.png")
    with pytest.raises(TelegramBadRequest, match="PHOTO_SAVE_FILE_INVALID"):
        await bot.send_photo(ANNA, big)


async def test_files_users_sent_can_be_downloaded(api: FakeBotAPI, bot: Bot) -> None:
    update = api.photo_update(api.user(ANNA, "Anna"), size=12_345, caption="broken")
    sizes = update["message"]["photo"]
    assert [size["file_size"] for size in sizes][-1] == 12_345
    assert len({size["file_id"] for size in sizes}) == 3

    file = await bot.get_file(sizes[-1]["file_id"])
    content = await bot.download(file)

    assert file.file_size == 12_345
    assert content is not None
    data = content.read()
    assert len(data) == 12_345 and data.startswith(b"\xff\xd8")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_commands_are_kept_per_scope_and_language(api: FakeBotAPI, bot: Bot) -> None:
    scope = BotCommandScopeChat(chat_id=ANNA)
    commands = [
        BotCommand(command="start", description="Начать"),
        BotCommand(command="help", description="Помощь"),
    ]

    assert await bot.set_my_commands(commands, scope=scope, language_code="ru") is True

    assert api.commands[('{"chat_id":1001,"type":"chat"}', "ru")] == [
        {"command": "start", "description": "Начать"},
        {"command": "help", "description": "Помощь"},
    ]
    assert ('{"type":"default"}', None) not in api.commands
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="upper case")])


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold",  # never closed
        "a & b",  # "&" not escaped
        "bold</b>",  # closes nothing
        "<b>bold</i>",  # closes the wrong tag
        "1 < 2",  # "<" not escaped
        '<span class="other">x</span>',  # only tg-spoiler spans
    ],
)
async def test_html_telegram_cannot_parse_is_refused(api: FakeBotAPI, bot: Bot, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ANNA, text, parse_mode="HTML")
    assert api.sent == []


async def test_unknown_tags_are_reported_at_their_byte_offset(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.send_message(ANNA, "Да <order>", parse_mode="HTML")

    assert 'Unsupported start tag "order" at byte offset 5' in refused.value.message


async def test_html_telegram_accepts_passes(api: FakeBotAPI, bot: Bot) -> None:
    text = (
        "<b>1</b><strong>2</strong><i>3</i><em>4</em><u>5</u><ins>6</ins><s>7</s><strike>8</strike>"
        '<del>9</del><span class="tg-spoiler">10</span><tg-spoiler>11</tg-spoiler>'
        '<a href="https://example.com/?a=1&amp;b=2">12</a><code>13</code>'
        '<pre><code class="language-python">14</code></pre><blockquote expandable>15</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &quot;&#65;&#x1F600;&gt;'
    )

    message = await bot.send_message(ANNA, text, parse_mode="HTML")

    assert message.text == '123456789101112131415👍 "A😀>'
    assert message.entities is not None
    assert {entity.type for entity in message.entities} >= {
        "pre",
        "expandable_blockquote",
        "custom_emoji",
    }
    assert api.sent[0].plain == message.text


async def test_length_is_counted_after_parsing_in_utf16(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA, "😀" * 2049)  # 4098 UTF-16 code units

    await bot.send_message(ANNA, "&lt;" * 4096, parse_mode="HTML")
    await bot.send_message(ANNA, "😀" * 2048)

    assert api.sent[0].plain == "<" * 4096
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ANNA, api.add_file(b"\xff\xd8")[0], caption="x" * 1025)


async def test_injected_faults_reach_the_client_as_telegram_errors(
    api: FakeBotAPI, bot: Bot
) -> None:
    api.fail_next("sendMessage", "429", retry_after=2)
    api.fail_next("sendMessage", "500")
    api.fail_next("*", "drop")

    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(ANNA, "one")
    with pytest.raises(TelegramServerError):
        await bot.send_message(ANNA, "two")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ANNA, "three")
    await bot.send_message(ANNA, "four")

    assert flood.value.retry_after == 2
    assert api.responses_429 == 1
    assert api.calls["sendMessage"] == 4
    assert [m.text for m in api.sent] == ["four"]


async def test_a_blocked_chat_is_forbidden(api: FakeBotAPI, bot: Bot) -> None:
    api.block_chat(ANNA)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "hello?")
    await bot.send_message(BORIS, "hello")
    assert [m.chat_id for m in api.sent] == [BORIS]


async def test_callback_data_is_limited_to_64_bytes(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(ANNA, "fits", reply_markup=keyboard(("ok", "ж" * 32)))  # 64 bytes

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ANNA, "too long", reply_markup=keyboard(("ok", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="text buttons are unallowed"):
        await bot.send_message(ANNA, "no text", reply_markup=keyboard(("", "x")))
    assert len(api.sent) == 1


async def test_methods_the_bot_does_not_call_are_not_found(api: FakeBotAPI, bot: Bot) -> None:
    # Served only once the bot calls them, with Telegram's checks: see bot/testing/botapi.
    with pytest.raises(TelegramNotFound):
        await bot.get_chat(DESK)
    with pytest.raises(TelegramNotFound):
        await bot.edit_message_text("x", chat_id=ANNA, message_id=1)
    assert (api.calls["getChat"], api.calls["editMessageText"]) == (1, 1)


async def test_raw_http_answers_like_telegram(api: FakeBotAPI) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api.base_url}/bot999:WRONG/getMe") as wrong_token:
            assert wrong_token.status == 401
            assert await wrong_token.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{api.base_url}/bot{api.token}/sendTelepathy") as unknown:
            assert (unknown.status, (await unknown.json())["description"]) == (404, "Not Found")
        body = {
            "chat_id": ANNA,
            "text": "as JSON",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        }
        async with http.post(f"{api.base_url}/bot{api.token}/sendMessage", json=body) as sent:
            assert (sent.status, (await sent.json())["result"]["text"]) == (200, "as JSON")
        async with http.get(
            f"{api.base_url}/bot{api.token}/getUpdates", params={"timeout": "0"}
        ) as polled:
            assert await polled.json() == {"ok": True, "result": []}
    assert api.sent[0].buttons == [[("A", "a")]]


async def test_a_sent_message_comes_back_with_every_field_telegram_fills_in(
    api: FakeBotAPI,
) -> None:
    # The Bot API's Message: the bot as `from`, the chat, the text as read with its entities
    # (offsets in UTF-16: the emoji counts twice), the keyboard, and the link preview options
    # the message was sent with; the same object in a button press on it.
    keyboard_json = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    body = {
        "chat_id": ANNA,
        "text": "🎧 <b>Refund</b> &amp; more",
        "parse_mode": "HTML",
        "reply_markup": keyboard_json,
        "link_preview_options": {"is_disabled": True},
    }
    async with aiohttp.ClientSession() as http:
        url = f"{api.base_url}/bot{api.token}"
        async with http.post(f"{url}/sendMessage", json=body) as answer:
            message = (await answer.json())["result"]
        legacy = {"chat_id": ANNA, "text": "old way", "disable_web_page_preview": "true"}
        async with http.post(f"{url}/sendMessage", data=legacy) as answer:
            old_way = (await answer.json())["result"]
        async with http.post(f"{url}/sendMessage", json={"chat_id": ANNA, "text": "x"}) as answer:
            plain = (await answer.json())["result"]
    assert message == {
        "message_id": 1,
        "from": {
            "id": api.bot_id,
            "is_bot": True,
            "first_name": "ReturnDesk Test",
            "username": "returndesk_test_bot",
        },
        "chat": {"id": ANNA, "first_name": f"User {ANNA}", "type": "private"},
        "date": message["date"],
        "text": "🎧 Refund & more",
        "entities": [{"type": "bold", "offset": 3, "length": 6}],
        "reply_markup": keyboard_json,
        "link_preview_options": {"is_disabled": True},
    }
    assert old_way["link_preview_options"] == {"is_disabled": True}
    assert "link_preview_options" not in plain  # left as it was: Telegram leaves it out
    [sent, *_] = api.messages_for(ANNA)
    pressed = api.callback_update(api.user(ANNA, "Anna"), sent, "a")["callback_query"]["message"]
    assert pressed == message


async def test_captions_are_parsed_into_caption_entities(api: FakeBotAPI, bot: Bot) -> None:
    photo = await bot.send_photo(
        ANNA, "https://example.com/a.jpg", caption="<i>Kettle</i>", parse_mode="HTML"
    )
    assert photo.caption == "Kettle"
    entities = [(e.type, e.offset, e.length) for e in photo.caption_entities or []]
    assert entities == [("italic", 0, 6)]
    assert api.sent[0].plain == "Kettle"


# --- python-telegram-bot ----------------------------------------------------------------------


async def test_ptb_sends_and_polls(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    assert ptb.username == "returndesk_test_bot"  # `async with` called getMe
    markup = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Yes", callback_data="yes")]]
    )

    message = await ptb.send_message(ANNA, "<i>Ready?</i>", parse_mode="HTML", reply_markup=markup)
    await api.push_update(api.text_update(api.user(ANNA, "Anna"), "yes"))
    [update] = await ptb.get_updates(timeout=1)

    assert message.text == "Ready?" and message.reply_markup == markup
    assert api.sent[0].buttons == [[("Yes", "yes")]]
    assert update.message is not None and update.message.text == "yes"
    assert update.message.chat.type == "private"


async def test_ptb_gets_telegram_errors(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    api.fail_next("sendMessage", "429", retry_after=3)

    with pytest.raises(telegram.error.RetryAfter) as flood:
        await ptb.send_message(ANNA, "one")
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)can't parse entities"):
        await ptb.send_message(ANNA, "<b>bold", parse_mode="HTML")

    assert flood.value.retry_after in (3, timedelta(seconds=3))  # int or timedelta, by PTB setting
    assert api.responses_429 == 1 and api.sent == []


async def test_ptb_downloads_files(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    file_id, unique_id = api.add_file(b"%PDF-1.7 receipt")

    file = await ptb.get_file(file_id)
    content = await file.download_as_bytearray()

    assert (file.file_unique_id, file.file_size) == (unique_id, 16)
    assert bytes(content) == b"%PDF-1.7 receipt"


async def test_ptb_uploads_an_album_and_a_document(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    album = await ptb.send_media_group(
        ANNA, [telegram.InputMediaPhoto(PNG, filename=f"c{n}.png") for n in range(2)]
    )
    document = await ptb.send_document(
        ANNA, telegram.InputFile(b"a,b\n1,2\n", filename="report.csv")
    )

    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert document.document is not None
    assert (document.document.file_name, document.document.mime_type) == ("report.csv", "text/csv")
    assert document.document.file_size == 8


# --- forum topics -----------------------------------------------------------------------------


async def test_a_topic_is_created_and_messages_sent_into_it_carry_its_thread(
    api: FakeBotAPI, bot: Bot
) -> None:
    await api.push_update(api.text_update(api.user(ANNA, "Anna"), "hi all", chat_id=DESK))

    topic = await bot.create_forum_topic(DESK, "Return #17", icon_color=0xFFD67E)
    sent = await bot.send_message(DESK, "Case opened", message_thread_id=topic.message_thread_id)

    # Message 1 made the group and Anna's is 2: the topic's creation message is 3, its thread id.
    assert (topic.message_thread_id, topic.name, topic.icon_color) == (3, "Return #17", 0xFFD67E)
    assert (sent.message_id, sent.message_thread_id, sent.is_topic_message) == (4, 3, True)
    assert sent.chat.type == "supergroup" and sent.chat.is_forum is True
    assert sent.chat.title == "Support"
    root = sent.reply_to_message  # Telegram's reply to the topic's creation message
    assert root is not None and root.message_id == 3
    assert root.forum_topic_created is not None and root.forum_topic_created.name == "Return #17"
    assert [(m.thread_id, m.text) for m in api.messages_in_topic(DESK, 3)] == [(3, "Case opened")]
    assert api.topics[DESK, 3].history == ["Return #17"]
    assert api.messages_in_topic(DESK, 99) == []


async def test_photos_and_albums_go_into_the_topic_too(api: FakeBotAPI, bot: Bot) -> None:
    topic = await bot.create_forum_topic(DESK, "Photos")
    photo, _ = api.add_file(b"\xff\xd8 a photo")
    thread = topic.message_thread_id

    single = await bot.send_photo(DESK, photo, message_thread_id=thread)
    album = await bot.send_media_group(
        DESK, [InputMediaPhoto(media=photo), InputMediaPhoto(media=photo)], message_thread_id=thread
    )

    assert [m.message_thread_id for m in (single, *album)] == [thread] * 3
    assert [m.method for m in api.messages_in_topic(DESK, thread)] == [
        "sendPhoto",
        "sendMediaGroup",
        "sendMediaGroup",
    ]


async def test_a_rename_is_kept_in_the_history_and_the_same_name_is_refused(
    api: FakeBotAPI, bot: Bot
) -> None:
    topic = await bot.create_forum_topic(DESK, "Return #17")
    thread = topic.message_thread_id

    assert await bot.edit_forum_topic(DESK, thread, name="Return #17: refunded") is True
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(DESK, thread, name="Return #17: refunded")
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.edit_forum_topic(DESK, thread + 100, name="Nobody's")

    assert api.topics[DESK, thread].name == "Return #17: refunded"
    assert api.topics[DESK, thread].history == ["Return #17", "Return #17: refunded"]
    # The rename's service message took an id, as in Telegram.
    later = await bot.send_message(DESK, "next", message_thread_id=thread)
    assert later.message_id == thread + 2


async def test_topic_names_hold_1_to_128_characters(api: FakeBotAPI, bot: Bot) -> None:
    await bot.create_forum_topic(DESK, "x" * 128)

    with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
        await bot.create_forum_topic(DESK, "x" * 129)
    with pytest.raises(TelegramBadRequest, match="title must be non-empty"):
        await bot.create_forum_topic(DESK, "   ")
    assert [topic.name for topic in api.topics.values()] == ["x" * 128]


async def test_closing_and_reopening_a_topic(api: FakeBotAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(DESK, "Return #17")).message_thread_id

    assert await bot.close_forum_topic(DESK, thread) is True
    assert api.topics[DESK, thread].closed is True
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(DESK, thread)
    # The bot is an admin there: a closed topic still takes its messages.
    await bot.send_message(DESK, "Closed, but noted", message_thread_id=thread)

    assert await bot.reopen_forum_topic(DESK, thread) is True
    assert api.topics[DESK, thread].closed is False
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(DESK, thread)
    assert [m.text for m in api.messages_in_topic(DESK, thread)] == ["Closed, but noted"]


async def test_an_unknown_thread_is_not_found(api: FakeBotAPI, bot: Bot) -> None:
    photo, _ = api.add_file(b"\xff\xd8 a photo")

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(DESK, "into nowhere", message_thread_id=42)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_photo(DESK, photo, message_thread_id=42)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_media_group(DESK, [InputMediaPhoto(media=photo)] * 2, message_thread_id=42)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(DESK, "General has no thread id", message_thread_id=1)
    assert api.sent == []


async def test_a_plain_group_has_no_topics(api: FakeBotAPI, bot: Bot) -> None:
    api.make_plain_group(DESK)

    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(DESK, "Return #17")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.close_forum_topic(DESK, 3)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(ANNA, "a private chat is no forum either")
    # Outside forums Telegram ignores message_thread_id.
    sent = await bot.send_message(DESK, "hello", message_thread_id=3)

    assert sent.message_thread_id is None and sent.chat.is_forum is None
    assert api.sent[0].thread_id is None
    assert sent.chat.type == "supergroup"


async def test_a_users_message_in_a_topic_is_what_telegram_sends(api: FakeBotAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(DESK, "Return #17")).message_thread_id
    anna = api.user(ANNA, "Anna")

    raw = api.text_update(anna, "Where is my refund?", chat_id=DESK, thread_id=thread)
    update = Update.model_validate(raw | {"update_id": 1}, context={"bot": bot})

    message = update.message
    assert message is not None and message.text == "Where is my refund?"
    assert (message.message_thread_id, message.is_topic_message) == (thread, True)
    assert (message.chat.type, message.chat.is_forum, message.chat.title) == (
        "supergroup",
        True,
        "Support",
    )
    root = message.reply_to_message
    assert root is not None and root.message_id == thread
    assert root.forum_topic_created is not None
    assert (root.forum_topic_created.name, root.forum_topic_created.icon_color) == (
        "Return #17",
        0x6FB9F0,
    )
    photo = api.photo_update(anna, caption="the box", chat_id=DESK, thread_id=thread)["message"]
    assert (photo["message_thread_id"], photo["is_topic_message"]) == (thread, True)
    assert photo["reply_to_message"]["message_id"] == thread


async def test_a_topic_a_person_created_is_known_once_a_message_arrives_in_it(
    api: FakeBotAPI, bot: Bot
) -> None:
    anna = api.user(ANNA, "Anna")
    update_id = await api.push_update(api.text_update(anna, "hello", chat_id=DESK, thread_id=7))
    [update] = await bot.get_updates()

    assert update.update_id == update_id and update.message is not None
    assert update.message.message_thread_id == 7 and update.message.message_id == 8
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.from_user is not None
    assert update.message.reply_to_message.from_user.id == ANNA
    reply = await bot.send_message(DESK, "Hello Anna", message_thread_id=7)
    assert reply.message_id == 9 and api.topics[DESK, 7].history == ["Topic 7"]
    general = api.text_update(anna, "in General", chat_id=DESK)["message"]
    assert "message_thread_id" not in general and "reply_to_message" not in general
    with pytest.raises(ValueError, match="General"):
        api.text_update(anna, "no", chat_id=DESK, thread_id=1)


async def test_a_button_pressed_in_a_topic_brings_the_topic_message(
    api: FakeBotAPI, bot: Bot
) -> None:
    thread = (await bot.create_forum_topic(DESK, "Return #17")).message_thread_id
    await bot.send_message(
        DESK, "Refund?", message_thread_id=thread, reply_markup=keyboard(("Yes", "refund:yes"))
    )
    [sent] = api.messages_in_topic(DESK, thread)

    await api.push_update(api.callback_update(api.user(BORIS, "Boris"), sent, "refund:yes"))
    [update] = await bot.get_updates()

    query = update.callback_query
    assert query is not None and query.data == "refund:yes"
    message = query.message
    assert message is not None and message.message_id == sent.message_id
    assert message.message_thread_id == thread and message.is_topic_message is True
    assert message.chat.is_forum is True


async def test_ptb_works_with_topics(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    topic = await ptb.create_forum_topic(DESK, "Return #17")
    thread = topic.message_thread_id
    sent = await ptb.send_message(DESK, "Case opened", message_thread_id=thread)

    assert await ptb.edit_forum_topic(DESK, thread, name="Return #17: refunded") is True
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)topic_not_modified"):
        await ptb.edit_forum_topic(DESK, thread, name="Return #17: refunded")
    assert await ptb.close_forum_topic(DESK, thread) is True
    assert await ptb.reopen_forum_topic(DESK, thread) is True
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)message thread not found"):
        await ptb.send_message(DESK, "nowhere", message_thread_id=thread + 50)
    chat = sent.chat

    assert (sent.message_thread_id, sent.is_topic_message) == (thread, True)
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    assert api.topics[DESK, thread].history == ["Return #17", "Return #17: refunded"]
    assert (chat.type, chat.title, chat.is_forum) == ("supergroup", "Support", True)
    raw = api.text_update(api.user(ANNA, "Anna"), "thanks", chat_id=DESK, thread_id=thread)
    update = telegram.Update.de_json(raw | {"update_id": 1}, ptb)
    assert update.message is not None
    assert (update.message.message_thread_id, update.message.is_topic_message) == (thread, True)
    assert update.message.chat.is_forum is True


async def test_ptb_is_told_a_plain_group_is_not_a_forum(api: FakeBotAPI, ptb: telegram.Bot) -> None:
    api.make_plain_group(DESK)

    with pytest.raises(telegram.error.BadRequest, match=r"(?i)the chat is not a forum"):
        await ptb.create_forum_topic(DESK, "Return #17")
    assert api.topics == {}


# --- webhook ----------------------------------------------------------------------------------


class WebhookReceiver:
    """The bot's webhook endpoint: refuses the first delivery (401), accepts the rest."""

    def __init__(self) -> None:
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.url = ""

    async def receive(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=401 if len(self.received) == 1 else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()


async def test_webhook_delivery_is_retried_until_accepted(
    api: FakeBotAPI, bot: Bot, receiver: WebhookReceiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token="s3cret_-token") is True

    update_id = await api.push_update(api.text_update(api.user(ANNA, "Anna"), "hi"))
    await api.wait_delivered(update_id, timeout=5)

    assert api.delivery_status[update_id] == [401, 200]
    assert [secret for secret, _ in receiver.received] == ["s3cret_-token", "s3cret_-token"]
    assert receiver.received[-1][1]["update_id"] == update_id
    assert receiver.received[-1][1]["message"]["text"] == "hi"
    assert api.webhook is not None and api.webhook.url == receiver.url
    assert api.pending_updates() == 0
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_updates_wait_for_get_updates_after_the_webhook_is_deleted(
    api: FakeBotAPI, bot: Bot
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unreachable")
    await bot.delete_webhook()
    update_id = await api.push_update(api.text_update(api.user(ANNA, "Anna"), "hi"))

    assert api.webhook is None
    assert [u.update_id for u in await bot.get_updates()] == [update_id]


async def test_webhook_secret_must_use_telegrams_alphabet(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="not allowed!")


# --- flood limits -----------------------------------------------------------------------------


async def test_flood_limits_answer_429_once_the_burst_is_spent() -> None:
    async with FakeBotAPI(enforce_limits=True, per_chat_burst=3) as api:
        bot = aiogram_bot(api)
        outcomes: list[str] = []
        for n in range(5):
            try:
                await bot.send_message(ANNA, f"message {n}")
                outcomes.append("sent")
            except TelegramRetryAfter as flood:
                outcomes.append(f"429, retry after {flood.retry_after}")
        await bot.send_message(BORIS, "another chat has its own limit")
        await bot.session.close()

    # The bucket refills one token a second: the next one is less than a second away.
    assert outcomes == ["sent", "sent", "sent", "429, retry after 1", "429, retry after 1"]
    assert api.responses_429 == 2
    assert len(api.sent) == 4


async def test_thirty_messages_a_second_in_all_then_429() -> None:
    """The FAQ's 30 a second is a sliding window with no burst on top."""
    async with FakeBotAPI(enforce_limits=True) as api:
        bot = aiogram_bot(api)
        started = time.monotonic()
        for n in range(30):
            await bot.send_message(5000 + n, "one each")
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(6000, "the thirty-first within a second")
        elapsed = time.monotonic() - started
        await bot.session.close()

    assert elapsed < 1.0  # else the window moved on and the test proves nothing
    assert flood.value.retry_after == 1
    assert len(api.sent) == 30


async def test_twenty_messages_a_minute_to_a_group_then_429() -> None:
    async with FakeBotAPI(enforce_limits=True) as api:
        bot = aiogram_bot(api)
        for n in range(20):
            await bot.send_message(DESK, f"update {n}")
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(DESK, "the twenty-first within a minute")
        await bot.send_message(ANNA, "a private chat has its own limit")
        await bot.session.close()

    assert 55 <= flood.value.retry_after <= 60  # when the first of the twenty leaves the minute
    assert len(api.sent) == 21
