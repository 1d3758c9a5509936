"""Many buyers run the partial-refund conversation at once, through the real aiogram stack and
a local Bot API server; ReturnDesk against the floor (benchmarks/floor_bot.py), in one run.

Each bot runs in a process of its own; this process is the Bot API server and the buyers. A
buyer sends an update, waits for the bot's reply in its chat, and presses the reply's first
button (for ReturnDesk that walks the partial-refund conversation to its accepted offer). The
sender's rate limits are lifted: the floor has none.

    python -m benchmarks.conversation --buyers 200 [--database postgresql] [--rounds 3]

With several rounds the two bots take turns (floor, ReturnDesk, floor, ...) and the ratios of
each round's pair are reported with their median: on a shared machine a single pair can be off
by a third either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.testing.botapi import FakeBotAPI, SentMessage
from bot.testing.budget import FIRST_BUYER, STEPS, orders_for

POSTGRES = os.environ.get(
    "RETURNDESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies: list[float]
    peak_rss_mb: float
    cpu_seconds: float
    server_cpu_seconds: float  # the database server's processes (0 for SQLite, which is in-process)
    api_calls: dict[str, int]  # Bot API calls the bot made while the buyers talked, by method
    io: dict[str, int]  # the bot's file reads and writes meanwhile (/proc/PID/io), sockets aside

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<11} {self.updates:>6} updates in {self.seconds:6.2f} s"
            f" = {self.rate:7.1f}/s"
            f"   p50 {self.percentile(0.5):6.1f} ms   p99 {self.percentile(0.99):7.1f} ms"
            f"   peak RSS {self.peak_rss_mb:6.1f} MB"
            f"   CPU {self.cpu_seconds / self.updates * 1000:5.2f} ms/update"
            + (
                f" + database server {self.server_cpu_seconds / self.updates * 1000:5.2f} ms"
                if self.server_cpu_seconds
                else ""
            )
        )

    def calls_line(self) -> str:
        per_update = ", ".join(
            f"{method} {count / self.updates:.2f}"
            for method, count in sorted(self.api_calls.items(), key=lambda item: -item[1])
        )
        return f"{'':14}API calls per update: {per_update}"

    def io_line(self) -> str:
        """Counts, so they read the same however busy the machine is. SQLite's file I/O shows
        here: a page read back is a page its cache lost."""
        each = {key: value / self.updates for key, value in self.io.items()}
        reads = f"{each['syscr']:.1f} reads ({each['rchar'] / 1024:.1f} KB)"
        writes = f"{each['syscw']:.1f} writes ({each['wchar'] / 1024:.1f} KB)"
        return f"{'':14}file I/O per update: {reads}, {writes}"


class Buyers:
    """Simulated Telegram users: one update at a time each, timed to the bot's first reply."""

    def __init__(self, server: FakeBotAPI) -> None:
        self.server = server
        self.waiting: dict[int, asyncio.Future[tuple[float, SentMessage]]] = {}
        server.on_sent.append(self._sent)

    def _sent(self, message: SentMessage) -> None:
        future = self.waiting.pop(message.chat_id, None)
        if future is not None and not future.done():
            future.set_result((time.monotonic(), message))

    async def _step(self, chat_id: int, update: dict[str, Any]) -> tuple[float, SentMessage]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        started = time.monotonic()
        await self.server.push_update(update)
        arrived, reply = await asyncio.wait_for(future, 120)
        return arrived - started, reply

    async def converse(self, user_id: int, latencies: list[float]) -> None:
        user = self.server.user(user_id, f"Buyer {user_id}", "en")
        reply: SentMessage | None = None
        for step in STEPS:
            if step == "press":
                if reply is None or not reply.buttons:
                    raise RuntimeError(f"{user_id}: nothing to press after {reply}")
                update = self.server.callback_update(user, reply, reply.buttons[0][0][1] or "")
            elif step == "photo":
                update = self.server.photo_update(user, size=80_000)
            else:
                update = self.server.text_update(user, step)
            latency, reply = await self._step(user_id, update)
            latencies.append(latency)


async def measure(
    name: str, command: list[str], env: dict[str, str], server: FakeBotAPI, buyers: int
) -> Result:
    process = await asyncio.create_subprocess_exec(
        *command,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        while server.calls["getUpdates"] == 0:  # started and polling
            if process.returncode is not None:
                raise RuntimeError(f"{name} died: {(await process.stderr.read()).decode()[-2000:]}")  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
        if command[1:3] in (["-m", "benchmarks.profiled"], ["-m", "benchmarks.gc_timed"]):
            process.send_signal(signal.SIGUSR1)  # the profile starts with the buyers
        people = Buyers(server)
        latencies: list[float] = []
        cpu_before = _cpu_seconds(process.pid)  # start-up (imports, migrations) left out
        io_before = _file_io(process.pid)
        server_before = _postgres_cpu_seconds()
        calls_before = server.calls.copy()
        started = time.monotonic()
        await asyncio.gather(*(people.converse(FIRST_BUYER + n, latencies) for n in range(buyers)))
        seconds = time.monotonic() - started
        peak = _peak_rss_mb(process.pid)
        cpu = _cpu_seconds(process.pid) - cpu_before
        io_after = _file_io(process.pid)
        server_cpu = _postgres_cpu_seconds() - server_before
        server.on_sent.clear()
        calls = dict(server.calls - calls_before)
        calls.pop("getUpdates", None)  # long polling: how often depends on timing, not work
        return Result(
            name,
            len(latencies),
            seconds,
            latencies,
            peak,
            cpu,
            server_cpu,
            calls,
            {key: io_after[key] - io_before[key] for key in io_after},
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # lets a profiler wrapping the bot write its report
            await process.wait()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _file_io(pid: int) -> dict[str, int]:
    """The process's read and write calls and bytes so far. The Bot API's HTTP goes through
    socket calls, which these do not count, so they are the files: SQLite's database and log."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return {key: int(fields[key]) for key in ("syscr", "syscw", "rchar", "wchar")}


def _postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's processes on this machine (it shares the cores)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        if name == "postgres":
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def database_url(kind: str, folder: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / name}.db"
    return asyncio.run(_fresh_postgres(name))


async def _fresh_postgres(name: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    database = f"returndesk_bench_{name}"
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        await connection.execute(text(f'CREATE DATABASE "{database}"'))
    await admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + f"/{database}"


async def run(
    buyers: int,
    database: str,
    folder: Path,
    profile: str | None = None,
    floor_options: tuple[str, ...] = (),
) -> tuple[Result, Result]:
    python = sys.executable
    results = []
    async with FakeBotAPI() as server:
        floor_db = await asyncio.to_thread(database_url, database, folder, "floor")
        results.append(
            await measure(
                "floor",
                [
                    python,
                    "-m",
                    "benchmarks.floor_bot",
                    "--api",
                    server.base_url,
                    "--token",
                    server.token,
                    "--database",
                    floor_db,
                    *floor_options,
                ],
                {},
                server,
                buyers,
            )
        )
    async with FakeBotAPI() as server:
        desk_db = await asyncio.to_thread(database_url, database, folder, "returndesk")
        env = {
            "RETURNDESK_DATABASE_URL": desk_db,
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_MEDIA_DIR": str(folder / "media"),
            "RETURNDESK_SENDER_PER_CHAT_PER_SECOND": "1000000",
            "RETURNDESK_SENDER_GLOBAL_PER_SECOND": "1000000",
            "RETURNDESK_SENDER_GROUP_PER_MINUTE": "1000000",
        }
        orders = folder / "orders.json"
        orders.write_text(json.dumps(orders_for(buyers)))
        importer = await asyncio.create_subprocess_exec(
            python,
            "-m",
            "bot",
            "orders",
            "import",
            str(orders),
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
        )
        if await importer.wait() != 0:
            raise RuntimeError("importing the benchmark's orders failed")
        command = [python, "-m", "bot", "run"]
        if profile and profile.endswith(".prof"):  # cProfile's, from the buyers' start on
            command = [python, "-m", "benchmarks.profiled", profile]
        elif profile and profile.endswith(".gc"):  # collections timed, from the buyers' start on
            command = [python, "-m", "benchmarks.gc_timed", profile]
        elif profile:  # py-spy's flame graph of the bot (peak RSS is then py-spy's)
            raw = ["--format", "raw"] if profile.endswith(".txt") else []
            spy = ["py-spy", "record", *raw, "--rate", "1000", "--nonblocking", "--subprocesses"]
            command = [*spy, "-o", profile, "--", *command]
        results.append(await measure("returndesk", command, env, server, buyers))
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=1, help="floor/ReturnDesk pairs to run")
    parser.add_argument(
        "--profile",
        help="profile ReturnDesk: FILE.prof with cProfile (from the buyers' start), "
        "FILE.svg (or .txt) with py-spy (the whole run), FILE.gc: its garbage collections "
        "timed (from the buyers' start)",
    )
    parser.add_argument(
        "--floor-extra-reads",
        type=int,
        default=0,
        help="N one-row reads more in each of the floor's updates: what statements cost",
    )
    parser.add_argument(
        "--floor-settles-heap",
        action="store_true",
        help="the floor sets its garbage collector as ReturnDesk does (bot/runtime/heap.py)",
    )
    options = parser.parse_args()
    print(f"{options.buyers} buyers x {len(STEPS)} updates, {options.database}, rate limits lifted")
    floor_options: tuple[str, ...] = ()
    if options.floor_extra_reads:
        print(f"the floor makes {options.floor_extra_reads} extra reads an update (not the floor)")
        floor_options += ("--extra-reads", str(options.floor_extra_reads))
    if options.floor_settles_heap:
        print("the floor sets its garbage collector as ReturnDesk does (not the floor)")
        floor_options += ("--settle-heap",)
    ratios: list[tuple[float, float, float]] = []
    for number in range(1, options.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="returndesk-bench-") as folder:
            floor, desk = asyncio.run(
                run(
                    options.buyers,
                    options.database,
                    Path(folder),
                    options.profile,
                    floor_options,
                )
            )
        ratio = (
            desk.rate / floor.rate,
            desk.percentile(0.5) / floor.percentile(0.5),
            desk.percentile(0.99) / floor.percentile(0.99),
        )
        ratios.append(ratio)
        print(f"round {number}")
        for result in (floor, desk):
            print(result.line())
            print(result.calls_line())
            print(result.io_line())
        print(
            f"ReturnDesk / floor: throughput {ratio[0]:.2f}x, "
            f"p50 latency {ratio[1]:.2f}x, p99 latency {ratio[2]:.2f}x"
        )
    if options.rounds > 1:
        throughput, p50, p99 = (statistics.median(r[i] for r in ratios) for i in range(3))
        print(
            f"median of {options.rounds} rounds: throughput {throughput:.2f}x, "
            f"p50 latency {p50:.2f}x, p99 latency {p99:.2f}x"
        )
    print("target: throughput at least 0.50x")


if __name__ == "__main__":
    main()
