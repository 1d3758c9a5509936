"""The chat and case a log line is about, set where they are known (the engine's update, the
sender's row) and read by the log's formatter (bot/cli/logs.py), so that every line written
meanwhile, by any module, carries them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

chat_id: ContextVar[int | None] = ContextVar("returndesk_chat_id", default=None)
case_id: ContextVar[int | None] = ContextVar("returndesk_case_id", default=None)


@contextmanager
def about(*, chat: int | None = None, case: int | None = None) -> Iterator[None]:
    """Lines logged in this block name `chat` and `case` (those given)."""
    tokens = []
    if chat is not None:
        tokens.append((chat_id, chat_id.set(chat)))
    if case is not None:
        tokens.append((case_id, case_id.set(case)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, int]:
    """The ids known here, to put in a log line."""
    found = {"chat_id": chat_id.get(), "case_id": case_id.get()}
    return {name: value for name, value in found.items() if value is not None}
