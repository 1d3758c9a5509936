"""Answering a pressed button (answerCallbackQuery): until Telegram takes the answer, the
button's spinner turns, and the pop-up a refusal needs is not shown.

A 429 or a 5xx is tried again, after Telegram's `retry_after` or a short back-off, but only for a
few seconds: Telegram takes an answer only while the press is fresh and refuses a later one
("query is too old"). A refusal is final and is not tried again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot.runtime.outbox.transport import RetryAfterError, TemporaryError
from bot.runtime.telegram.adapter import TelegramAdapter

log = logging.getLogger(__name__)
ATTEMPTS = 4
FIRST_PAUSE = 0.5  # seconds, doubled after each 5xx or network failure
WINDOW = 10.0  # seconds after the first try within which an answer is still worth giving


async def answer_callback(
    adapter: TelegramAdapter[Any], callback_id: str, text: str | None
) -> None:
    """Answer a button press; log, never raise, if it cannot be done (a late or lost answer
    harms nothing the update changed)."""
    started = time.monotonic()
    pause = FIRST_PAUSE
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await adapter.answer_callback(callback_id, text)
            return
        except RetryAfterError as error:
            wait = error.seconds
        except TemporaryError:
            wait, pause = pause, pause * 2
        except Exception as error:  # a refusal ("query is too old") or a bug: not worth a retry
            log.info("could not answer callback %s: %s", callback_id, error)
            return
        if attempt == ATTEMPTS or time.monotonic() - started + wait > WINDOW:
            log.info("gave up answering callback %s after %d tries", callback_id, attempt)
            return
        await asyncio.sleep(wait)
