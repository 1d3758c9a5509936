"""A backlog of replies drained under Telegram's default limits, against a Bot API server that
enforces the same limits (answering 429 to anything faster).

10,000 replies to 500 chats are put in the outbox of a fresh database, then `returndesk run`
starts with its default sender settings (1 message a second per chat, 30 a second in all) and
delivers them. Reported: the achieved rate against the cap, and how many 429s the server gave.

    python -m benchmarks.drain [--replies 10000 --chats 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.storage.database import Database
from bot.storage.models import OutboxMessage
from bot.testing.botapi import FakeBotAPI, SentMessage

GLOBAL_CAP = 30
PER_CHAT_CAP = 1.0


async def fill(url: str, replies: int, chats: int) -> None:
    db = Database(url)
    await db.upgrade()
    now = datetime.now(UTC)
    rows = [
        {
            "chat_id": 5_000_000 + n % chats,
            "text": f"Reply {n // chats + 1} of the backlog to this chat.",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for n in range(replies)
    ]
    async with db.transaction() as session:
        await session.execute(insert(OutboxMessage), rows)
    await db.dispose()


async def run(replies: int, chats: int, folder: Path) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'drain.db'}"
    await fill(url, replies, chats)
    sent: list[float] = []
    seen: set[tuple[int, str | None]] = set()  # each reply's text is unique within its chat
    async with FakeBotAPI(
        enforce_limits=True,
        per_chat_per_second=PER_CHAT_CAP,
        global_per_second=GLOBAL_CAP,
    ) as server:

        def record(message: SentMessage) -> None:
            sent.append(time.monotonic())
            seen.add((message.chat_id, message.text))

        server.on_sent.append(record)
        env = {
            **os.environ,
            "RETURNDESK_DATABASE_URL": url,
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_MEDIA_DIR": str(folder / "media"),
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            while len(seen) < replies:
                if bot.returncode is not None:
                    raise RuntimeError("the bot stopped before the backlog was drained")
                await asyncio.sleep(0.5)
        finally:
            bot.send_signal(signal.SIGINT)
            await bot.wait()
    seconds = sent[-1] - sent[0]
    rate = (len(sent) - 1) / seconds
    cap = min(GLOBAL_CAP, chats * PER_CHAT_CAP)
    print(f"{replies} replies to {chats} chats, Telegram's default limits on both sides")
    print(
        f"delivered in {seconds:.1f} s = {rate:.2f}/s, {rate / cap:.1%} of the {cap:.0f}/s cap; "
        f"429 answers: {server.responses_429}; sent twice: {len(sent) - len(seen)} "
        f"(target: at least 95% of the cap, no 429, nothing twice)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=500)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="returndesk-drain-") as folder:
        asyncio.run(run(options.replies, options.chats, Path(folder)))


if __name__ == "__main__":
    main()
