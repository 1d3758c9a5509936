"""The commands' log hides secrets, wherever a library put them in a line."""

from __future__ import annotations

import io
import logging

from bot.cli.logs import HIDDEN, RedactingFormatter

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


def test_before_any_secret_is_known_lines_are_unchanged() -> None:
    assert _line(RedactingFormatter(), "nothing to hide") == "WARNING tests.logs: nothing to hide\n"


def test_a_secret_is_hidden_as_it_is_used_without_the_whitespace_around_it() -> None:
    formatter = RedactingFormatter()
    formatter.hide([f"  {TOKEN}\n"])  # as a .env line may give it; the adapter strips it
    line = _line(formatter, f"GET http://api/bot{TOKEN}/getMe")
    assert TOKEN not in line and HIDDEN in line
