"""The commands' log hides secrets, wherever a library put them in a line."""

from __future__ import annotations

import io
import json
import logging
import re

from bot.cli.logs import HIDDEN, JsonFormatter, RedactingFormatter
from bot.telemetry import log_context

TOKEN = "123456:AAE-secret_part"


def _line(formatter: logging.Formatter, message: str, *args: object, error: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if error:
            try:
                raise RuntimeError(f"404, url='http://api/file/bot{TOKEN}/photos/1.jpg'")
            except RuntimeError:
                logger.exception(message, *args)
        else:
            logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_secret_is_hidden_in_messages_arguments_encodings_and_tracebacks() -> None:
    formatter = RedactingFormatter()
    formatter.hide([TOKEN, ""])
    lines = [
        _line(formatter, f"POST http://api/bot{TOKEN}/getUpdates"),
        _line(formatter, "POST %s", f"http://api/bot{TOKEN.replace(':', '%3A')}/getUpdates"),
        _line(formatter, "download failed", error=True),
    ]
    for line in lines:
        assert TOKEN not in line and "secret_part" not in line
        assert HIDDEN in line
    assert "RuntimeError" in lines[2]  # the traceback is still there, without the token


def test_before_any_secret_is_known_lines_are_unchanged_but_for_their_time() -> None:
    line = _line(RedactingFormatter(), "nothing to hide")
    moment, rest = line.split(" ", 1)
    assert rest == "WARNING tests.logs: nothing to hide\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", moment)


def test_anything_shaped_like_a_bot_token_is_hidden_unasked() -> None:
    token = "7012345678:AAH3x9Yq-Zr2Lw8VtK_c5Nd0Pj6Fs1Gm4Bo"
    for formatter in (RedactingFormatter(), JsonFormatter()):
        for form in (token, token.replace(":", "%3A")):
            line = _line(formatter, "GET https://api.telegram.org/bot%s/getMe", form)
            assert "AAH3x9Yq" not in line and HIDDEN in line
    # Times and ids are not tokens.
    assert "12:30:45" in _line(RedactingFormatter(), "at 12:30:45, order 1234:5")


def test_json_lines_name_the_chat_and_case_and_keep_a_traceback_on_the_line() -> None:
    formatter = JsonFormatter()
    formatter.hide([TOKEN])
    with log_context.about(chat=101, case=7):
        line = _line(formatter, "update %s failed", "tg:1:2", error=True)
    assert line.count("\n") == 1
    record = json.loads(line)
    assert record["message"] == "update tg:1:2 failed"
    assert (record["level"], record["logger"]) == ("ERROR", "tests.logs")
    assert (record["chat_id"], record["case_id"]) == (101, 7)
    assert "RuntimeError" in record["error"] and TOKEN not in record["error"]
    assert record["time"].endswith("Z")
    assert "chat_id" not in json.loads(_line(JsonFormatter(), "outside any chat"))


def test_a_secret_is_hidden_as_it_is_used_without_the_whitespace_around_it() -> None:
    formatter = RedactingFormatter()
    formatter.hide([f"  {TOKEN}\n"])  # as a .env line may give it; the adapter strips it
    line = _line(formatter, f"GET http://api/bot{TOKEN}/getMe")
    assert TOKEN not in line and HIDDEN in line
