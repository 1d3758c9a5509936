"""How long replies owed at a crash wait after a restart: kill -9 mid-drain, start again.

    python -m benchmarks.recovery [--buyers 80] [--database postgresql] [--modes ...]

Each mode runs on a fresh database and a fresh Bot API server that enforces Telegram's limits
(30 messages a second in all, one a second per chat), with `returndesk run` (aiogram, long
polling, its default settings) in a process of its own:
1. `--buyers` buyers each send /start at once; the bot stores and applies the updates, and its
   sender starts delivering the replies at Telegram's 30 a second.
2. When `--kill-after` replies are out, the bot gets SIGKILL: the replies it had claimed stay
   held by a sender that is gone.
3. The bot is started again at once. Measured from that moment: when the new bot first calls
   the Bot API (getMe: it has imported its libraries, read its settings and checked the
   database; the CPU time it used to get there is printed beside it, since on a shared machine
   the wall time depends on the load), its first reply, and the last owed reply (when every
   buyer has an answer and the outbox and the inbox are empty). Replies that reached Telegram
   twice are counted.

Modes, each a restart of a different kind:
- `same-machine`: the restart sees that its predecessor's process is gone and takes its rows
  over at once.
- `elsewhere`: the restart runs in a pid namespace of its own (`unshare`, root only), as a new
  container or another host would; only the heartbeat can tell, so the predecessor is presumed
  dead when it has been silent for RETURNDESK_SENDER_PRESUMED_DEAD_AFTER seconds.
- `lease`: RETURNDESK_SENDER_TAKEOVER=false, the behaviour before heartbeats: the held replies
  wait for the end of their two-minute lease.

Every wait is bounded: a mode that has not recovered LEASE + 60 s after the restart is
reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.conversation import _cpu_seconds, database_url
from bot.runtime.outbox.sender import LEASE
from bot.storage.database import Database
from bot.storage.models import InboxUpdate, OutboxMessage
from bot.testing.botapi import FakeBotAPI, SentMessage

FIRST_BUYER = 7_000_000
MODES = ("same-machine", "elsewhere", "lease")
GIVE_UP = LEASE.total_seconds() + 60
ELSEWHERE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]


@dataclass
class Recovery:
    mode: str
    buyers: int
    sent_before_kill: int
    owed_at_kill: int  # outbox rows
    held_at_kill: int  # of them, claimed by the killed sender
    up: float | None  # seconds from the restart to the new bot's first Bot API call
    up_cpu: float | None  # the CPU time the new bot had used by then
    first_reply: float | None  # seconds from the restart
    last_owed_reply: float | None
    sent_twice: int

    def line(self) -> str:
        def seconds(value: float | None) -> str:
            return "never" if value is None else f"{value:.1f} s"

        return (
            f"{self.mode:>12}: killed after {self.sent_before_kill} of {self.buyers} replies "
            f"({self.owed_at_kill} owed, {self.held_at_kill} of them held by the killed sender); "
            f"after the restart: up (getMe) {seconds(self.up)} "
            f"(CPU {seconds(self.up_cpu)}), first reply "
            f"{seconds(self.first_reply)}, last owed reply {seconds(self.last_owed_reply)}; "
            f"sent twice: {self.sent_twice}"
        )


async def _counts(url: str) -> tuple[int, int, int]:
    """Outbox rows, of them held by a sender, inbox rows."""
    db = Database(url)
    try:
        async with db.session() as session:
            owed = await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
            held = await session.scalar(
                select(func.count()).where(OutboxMessage.status == "sending")
            )
            inbox = await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0
        return owed, held or 0, inbox
    finally:
        await db.dispose()


async def measure(mode: str, buyers: int, kill_after: int, database: str, folder: Path) -> Recovery:
    url = await asyncio.to_thread(database_url, database, folder, mode.replace("-", "_"))
    db = Database(url)
    await db.upgrade()
    await db.dispose()
    sent: list[tuple[float, SentMessage]] = []
    async with FakeBotAPI(enforce_limits=True) as server:
        server.on_sent.append(lambda message: sent.append((time.monotonic(), message)))
        env = {
            **os.environ,
            "RETURNDESK_DATABASE_URL": url,
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_MEDIA_DIR": str(folder / "media"),
        }
        command = [sys.executable, "-m", "bot", "run"]
        for n in range(buyers):
            user = server.user(FIRST_BUYER + n, f"Buyer {n}", "en")
            await server.push_update(server.text_update(user, "/start"))

        async def enough_out() -> bool:
            return len(sent) >= kill_after

        first = await _start(command, env, folder / f"{mode}-killed.log")
        try:
            if not await _wait(enough_out, first, GIVE_UP):
                raise RuntimeError("the first bot never got its replies out; see its log")
        finally:
            first.kill()  # SIGKILL: nothing is given back
            await first.wait()
        sent_before_kill = len(sent)
        owed, held, _ = await _counts(url)

        if mode == "lease":
            env["RETURNDESK_SENDER_TAKEOVER"] = "false"
        restarted_at = time.monotonic()
        restarted = [*ELSEWHERE, *command] if mode == "elsewhere" else command
        second = await _start(restarted, env, folder / f"{mode}-restarted.log")
        answered = {FIRST_BUYER + n for n in range(buyers)}
        called, up, up_cpu = server.calls["getMe"], None, None

        async def recovered() -> bool:
            nonlocal up, up_cpu
            if up is None and server.calls["getMe"] > called:
                up = time.monotonic() - restarted_at
                up_cpu = _cpu_seconds(_bot_pid(second.pid, mode))
            if not answered <= {message.chat_id for _, message in sent}:
                return False
            owed, _, inbox = await _counts(url)
            return owed == 0 and inbox == 0

        try:
            done = await _wait(recovered, second, GIVE_UP)
        finally:
            # unshare ignores SIGINT; it passes SIGKILL on (--kill-child)
            second.send_signal(signal.SIGKILL if mode == "elsewhere" else signal.SIGINT)
            await second.wait()
    after = [at - restarted_at for at, _ in sent[sent_before_kill:]]
    copies = Counter((message.chat_id, message.text) for _, message in sent)
    return Recovery(
        mode=mode,
        buyers=buyers,
        sent_before_kill=sent_before_kill,
        owed_at_kill=owed,
        held_at_kill=held,
        up=up,
        up_cpu=up_cpu,
        first_reply=min(after) if after else None,
        last_owed_reply=max(after) if done and after else None,
        sent_twice=sum(count - 1 for count in copies.values()),
    )


def _bot_pid(pid: int, mode: str) -> int:
    """The bot's process: under unshare, its child."""
    if mode != "elsewhere":
        return pid
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


async def _start(command: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(*command, env=env, stdout=output, stderr=output)


async def _wait(
    condition: Callable[[], Awaitable[bool]], bot: asyncio.subprocess.Process, seconds: float
) -> bool:
    """Poll `condition` every 50 ms until it holds (True), the bot exits or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        if bot.returncode is not None:
            raise RuntimeError(f"the bot exited ({bot.returncode}) before it was done")
        await asyncio.sleep(0.05)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=80)
    parser.add_argument("--kill-after", type=int, default=25, help="replies out before kill -9")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--modes", default=",".join(MODES), help=f"any of {', '.join(MODES)}")
    parser.add_argument("--keep", help="a folder to run in and keep: the bots' logs, SQLite files")
    options = parser.parse_args()
    modes = [mode for mode in options.modes.split(",") if mode]
    if "elsewhere" in modes and (os.geteuid() != 0 or shutil.which("unshare") is None):
        print("elsewhere: left out (it needs unshare, as root)")
        modes.remove("elsewhere")
    print(
        f"{options.buyers} buyers send /start; kill -9 after {options.kill_after} replies; "
        f"restart at once ({options.database}, Telegram's limits on both sides)"
    )
    with tempfile.TemporaryDirectory(prefix="returndesk-recovery-") as temporary:
        folder = Path(options.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for mode in modes:
            result = asyncio.run(
                measure(mode, options.buyers, options.kill_after, options.database, folder)
            )
            print(result.line(), flush=True)


if __name__ == "__main__":
    main()
