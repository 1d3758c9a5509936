"""The commands' log: one line a record, with its time in UTC, and no secret in any line.

Telegram's Bot API puts the bot's token in every URL it serves, and libraries log URLs: httpx
(python-telegram-bot's client) logs each request at INFO, and aiohttp's errors quote the URL
they failed on. So every line is rendered, traceback included, and then the secrets are taken
out of it, whoever wrote it: the secrets the command was given, and anything shaped like a bot
token besides.

RETURNDESK_LOG_FORMAT=json writes one JSON object a line instead (docs/operations.md#logs).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from bot.telemetry import log_context

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "[secret]"
# A bot token as @BotFather gives it (the bot's id, a colon, some 35 characters), also with its
# colon percent-encoded as in a URL: hidden even when no one told the log it was a secret.
TOKEN_SHAPE = re.compile(r"\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
# Libraries whose INFO lines are noise in the bot's log: Alembic's on every start (the bot
# migrates by itself), aiohttp's one a request served (a load balancer's probes, Telegram's
# webhook calls).
QUIET = ("alembic", "aiohttp.access")


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self._secrets: list[str] = []

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        """ISO 8601 in UTC with milliseconds: 2026-11-16T06:00:00.123Z."""
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{moment}.{int(record.msecs):03d}Z"

    def hide(self, secrets: Iterable[str]) -> None:
        # A secret reaches a log as it is used (a token from .env may carry a newline the
        # adapter strips) and percent-encoded (a token's ":" in a URL).
        used = {secret.strip() for secret in secrets} - {""}
        forms = {form for secret in used for form in (secret, quote(secret, safe=""))}
        self._secrets = sorted(forms | set(self._secrets), key=len, reverse=True)

    @property
    def secrets(self) -> list[str]:
        return list(self._secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.redacted(super().format(record))

    def redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        return TOKEN_SHAPE.sub(HIDDEN, text)


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: time, level, logger, message, the chat and case the line is
    about when known (bot/telemetry/log_context.py, or `extra=`), and the traceback as `error`."""

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(log_context.current())
        for name in ("chat_id", "case_id"):
            if isinstance(getattr(record, name, None), int):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines, so a traceback stays on its record's line.
        return self.redacted(json.dumps(entry, ensure_ascii=False, default=str))


# The formatter of the commands' handler (one item: `configure` replaces it).
_ACTIVE: list[RedactingFormatter] = [RedactingFormatter()]


def configure(level: int = logging.WARNING, style: str = "text") -> None:
    """The commands' handler on the root logger, writing `style` (text or json)."""
    formatter = JsonFormatter() if style == "json" else RedactingFormatter()
    formatter.hide(_ACTIVE[0].secrets)
    _ACTIVE[0] = formatter
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def hide(secrets: Iterable[str]) -> None:
    """From now on no line of the commands' log shows any of `secrets`."""
    _ACTIVE[0].hide(secrets)


def redacted(text: str) -> str:
    """`text` with the secrets `hide` was given taken out (for what is printed, not logged)."""
    return _ACTIVE[0].redacted(text)


def for_the_bot() -> None:
    """`returndesk run` logs at INFO, without httpx's line for every request (one a poll and
    one a reply, each with the URL)."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
