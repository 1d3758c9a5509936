"""The commands' log: one line a record, and no secret in any line.

Telegram's Bot API puts the bot's token in every URL it serves, and libraries log URLs: httpx
(python-telegram-bot's client) logs each request at INFO, and aiohttp's errors quote the URL
they failed on. So every line is rendered, traceback included, and then the secrets are taken
out of it, whoever wrote it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

FORMAT = "%(levelname)s %(name)s: %(message)s"
HIDDEN = "[secret]"


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self._secrets: list[str] = []

    def hide(self, secrets: Iterable[str]) -> None:
        # A secret reaches a log as it is used (a token from .env may carry a newline the
        # adapter strips) and percent-encoded (a token's ":" in a URL).
        used = {secret.strip() for secret in secrets} - {""}
        forms = {form for secret in used for form in (secret, quote(secret, safe=""))}
        self._secrets = sorted(forms | set(self._secrets), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redacted(super().format(record))

    def redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        return text


_FORMATTER = RedactingFormatter()


def configure(level: int = logging.WARNING) -> None:
    """The commands' handler on the root logger."""
    handler = logging.StreamHandler()
    handler.setFormatter(_FORMATTER)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


def hide(secrets: Iterable[str]) -> None:
    """From now on no line of the commands' log shows any of `secrets`."""
    _FORMATTER.hide(secrets)


def redacted(text: str) -> str:
    """`text` with the secrets `hide` was given taken out (for what is printed, not logged)."""
    return _FORMATTER.redacted(text)


def for_the_bot() -> None:
    """`returndesk run` logs at INFO, without httpx's line for every request (one a poll and
    one a reply, each with the URL)."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
