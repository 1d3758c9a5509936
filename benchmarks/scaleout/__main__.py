"""1, 2 and 4 webhook workers, each in a CPU cgroup of its own capped at the same share of a
core, on one PostgreSQL database behind a round-robin proxy, with many simulated buyers walking
the partial-refund conversation; rounds alternate (1, 2, 4, 1, 2, 4, ...) and the medians are
reported (issue 25; method and latest numbers in benchmarks/BENCHMARKS.md).

    python -m benchmarks.scaleout [--rounds 3] [--share 0.2] [--slots 120] [--seconds 20]

Needs root (cgroups) and PostgreSQL on this machine (RETURNDESK_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from benchmarks.conversation import POSTGRES, _cpu_seconds, _postgres_cpu_seconds
from benchmarks.scaleout.cgroups import CpuGroup, MachineCpu, available
from bot.config import settings as settings_module
from bot.testing.botapi import FakeBotAPI, SentMessage
from bot.testing.budget import FIRST_BUYER, STEPS, orders_for

SECRET = "scaleout-bench-secret"
PATH = "/telegram/webhook"
DATABASE = "returndesk_bench_scaleout"
RAISED = "1000000"  # the sender's limits, raised so they never bind (still consulted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Window:
    """What one configuration did in its measured window."""

    workers: int
    seconds: float
    latencies: list[float]
    failures: int
    worker_cpu: list[float]  # seconds, each worker's cgroup
    throttled: list[int]  # periods the quota stopped each worker
    sender_cpu: float
    sweeper_cpu: float
    idle_share: float  # of the whole machine, /proc/stat
    waits: Counter[str]  # session-samples by state and wait event
    samples: int
    responses_429: int
    postgres_cpu: float
    driver_cpu: float  # this process: the buyers and the Bot API server
    proxy_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def cpu_per_update_ms(self) -> float:
        return sum(self.worker_cpu) / max(1, len(self.latencies)) * 1000

    def lines(self) -> list[str]:
        shares = ", ".join(
            f"{cpu / self.seconds:.1%} ({throttled} throttled)"
            for cpu, throttled in zip(self.worker_cpu, self.throttled, strict=True)
        )
        out = [
            f"{self.workers} worker(s): {len(self.latencies)} round trips in {self.seconds:.1f} s"
            f" = {self.rate:.1f}/s   p50 {self.percentile(0.5):.0f} ms   p99 "
            f"{self.percentile(0.99):.0f} ms   429s {self.responses_429}   failed {self.failures}",
            f"    worker CPU / wall: {shares}",
            f"    workers' CPU per round trip {self.cpu_per_update_ms:.2f} ms;"
            f" sender {self.sender_cpu / self.seconds:.1%} of a core,"
            f" sweeper {self.sweeper_cpu / self.seconds:.1%},"
            f" PostgreSQL {self.postgres_cpu / self.seconds:.1%},"
            f" driver {self.driver_cpu / self.seconds:.1%},"
            f" proxy {self.proxy_cpu / self.seconds:.1%};"
            f" machine idle {self.idle_share:.1%} of its {os.cpu_count()} cores",
        ]
        top = self.waits.most_common(8)
        out.append(
            "    PostgreSQL sessions waiting (average sessions): "
            + (
                ", ".join(f"{key} {count / max(1, self.samples):.2f}" for key, count in top)
                or "none"
            )
        )
        return out


class Buyers:
    """Simulated buyers in `slots` parallel lanes, each walking whole conversations one after
    another; a round trip is from POSTing an update to the proxy until the bot's reply to that
    chat reaches the Bot API server."""

    def __init__(self, server: FakeBotAPI, proxy_url: str, ids: Any) -> None:
        self.server = server
        self.url = proxy_url + PATH
        self.ids = ids
        self.waiting: dict[int, asyncio.Future[tuple[float, SentMessage]]] = {}
        self.done: list[tuple[float, float]] = []  # (finished at, latency)
        self.failures = 0
        server.on_sent.append(self._sent)

    def _sent(self, message: SentMessage) -> None:
        future = self.waiting.pop(message.chat_id, None)
        if future is not None and not future.done():
            future.set_result((time.monotonic(), message))

    async def lane(self, session: ClientSession, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            user_id = next(self.ids)
            try:
                await self._converse(session, user_id, stop_at)
            except (TimeoutError, RuntimeError) as error:
                self.failures += 1
                print(f"    buyer {user_id}: {error!r}", file=sys.stderr)

    async def _converse(self, session: ClientSession, user_id: int, stop_at: float) -> None:
        user = self.server.user(user_id, f"Buyer {user_id}", "en")
        reply: SentMessage | None = None
        for step in STEPS:
            if time.monotonic() >= stop_at:
                return
            if step == "press":
                if reply is None or not reply.buttons:
                    raise RuntimeError(f"nothing to press after {reply}")
                update = self.server.callback_update(user, reply, reply.buttons[0][0][1] or "")
            elif step == "photo":
                update = self.server.photo_update(user, size=80_000)
            else:
                update = self.server.text_update(user, step)
            update["update_id"] = self.server.next_update_id()
            future = asyncio.get_running_loop().create_future()
            self.waiting[user_id] = future
            started = time.monotonic()
            async with session.post(
                self.url,
                data=json.dumps(update),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                },
            ) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"the webhook answered {answer.status}")
            arrived, reply = await asyncio.wait_for(future, 60)
            self.done.append((arrived, arrived - started))


async def sample_waits(dsn: str, database: str, stop: asyncio.Event) -> tuple[Counter[str], int]:
    """pg_stat_activity every 50 ms: each client session of the benchmark's database by state
    and wait event, idle sessions left out; a session waiting for a lock with its statement."""
    connection = await asyncpg.connect(dsn)
    waits: Counter[str] = Counter()
    samples = 0
    try:
        while not stop.is_set():
            rows = await connection.fetch(
                "SELECT state, wait_event_type, wait_event, left(query, 70) AS query"
                " FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' AND state <> 'idle'",
                database,
            )
            samples += 1
            for row in rows:
                event = (
                    f"{row['wait_event_type']}:{row['wait_event']}"
                    if row["wait_event"]
                    else "running"
                )
                if row["wait_event_type"] == "Lock":  # which statement waits names the lock
                    event += f" ({' '.join(row['query'].split())})"
                waits[f"{row['state']} {event}"] += 1
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    return waits, samples


def postgres_cpu() -> float:
    return _postgres_cpu_seconds()


class Bench:
    def __init__(self, options: argparse.Namespace, folder: Path) -> None:
        self.options = options
        self.folder = folder
        self.url = POSTGRES.rsplit("/", 1)[0] + f"/{DATABASE}"
        self.dsn = self.url.replace("+asyncpg", "")
        self.ids = iter(range(FIRST_BUYER, FIRST_BUYER + options.pool))
        self.groups: list[CpuGroup] = []

    def env(self, server: FakeBotAPI, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "RETURNDESK_DATABASE_URL": self.url,
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
            "RETURNDESK_TELEGRAM_MEDIA_DIR": str(self.folder / "media"),
            "RETURNDESK_SENDER_PER_CHAT_PER_SECOND": RAISED,
            "RETURNDESK_SENDER_GLOBAL_PER_SECOND": RAISED,
            "RETURNDESK_SENDER_GROUP_PER_MINUTE": RAISED,
            "RETURNDESK_HTTP_PORT": "0",  # no health server beside the webhook's
            **extra,
        }
        if self.options.shared_limits:
            env["RETURNDESK_LIMITS_STORE"] = "postgresql"
        if self.options.shared_media:
            env["RETURNDESK_MEDIA_BACKEND"] = "database"
        return env

    async def spawn(
        self, server: FakeBotAPI, role: str, **extra: str
    ) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--role",
            role,
            env=self.env(server, **extra),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.folder / f"{role}-{time.monotonic_ns()}.log").open("wb"),
        )

    def group(self, name: str, share: float | None) -> CpuGroup:
        group = CpuGroup(f"returndesk-scaleout-{name}", share)
        self.groups.append(group)
        return group

    async def prepare(self) -> None:
        admin = await asyncpg.connect(POSTGRES.replace("+asyncpg", ""))
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        await admin.close()
        orders = self.folder / "orders.json"
        orders.write_text(json.dumps(orders_for(self.options.pool)))
        importer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "orders",
            "import",
            str(orders),
            env={**os.environ, "RETURNDESK_DATABASE_URL": self.url},
            stdout=asyncio.subprocess.DEVNULL,
        )
        started = time.monotonic()
        if await importer.wait() != 0:
            raise RuntimeError("importing the benchmark's orders failed")
        print(f"{self.options.pool} orders imported in {time.monotonic() - started:.0f} s")

    async def drop(self) -> None:
        admin = await asyncpg.connect(POSTGRES.replace("+asyncpg", ""))
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.close()

    async def configuration(
        self, server: FakeBotAPI, workers: int, helpers: dict[str, CpuGroup], idle: float
    ) -> Window:
        options = self.options
        ports = [free_port() for _ in range(workers)]
        proxy_port = free_port()
        proxy_url = f"http://127.0.0.1:{proxy_port}"
        processes = [
            await self.spawn(
                server,
                options.role,
                RETURNDESK_TELEGRAM_WEBHOOK_URL=proxy_url,
                RETURNDESK_TELEGRAM_WEBHOOK_SECRET=SECRET,
                RETURNDESK_TELEGRAM_WEBHOOK_PORT=str(port),
                RETURNDESK_TELEGRAM_WEBHOOK_PATH=PATH,
            )
            for port in ports
        ]
        proxy = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.scaleout.proxy",
            "--port",
            str(proxy_port),
            *(["--by-chat"] if options.by_chat else []),
            *(f"http://127.0.0.1:{port}" for port in ports),
        )
        groups = [self.group(f"w{n}", options.share) for n in range(workers)]
        try:
            for port, process in zip([*ports, proxy_port], [*processes, proxy], strict=True):
                await _listening(port, process)
            for group, process in zip(groups, processes, strict=True):
                group.add(process.pid)  # after start-up: capped start-up only takes longer
            if idle:
                await asyncio.sleep(2)
                before = [group.cpu_seconds() for group in groups]
                await asyncio.sleep(idle)
                shares = [(g.cpu_seconds() - b) / idle for g, b in zip(groups, before, strict=True)]
                print(
                    f"idle (no updates, {idle:.0f} s): each worker's CPU "
                    + ", ".join(f"{share:.2%}" for share in shares)
                    + " of a core (target under 1%)"
                )
            return await self.load(server, proxy_url, workers, groups, helpers, proxy_pid=proxy.pid)
        finally:
            for process in [*processes, proxy]:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in [*processes, proxy]:
                await process.wait()
            for group in groups:
                group.close()
                self.groups.remove(group)

    async def load(
        self,
        server: FakeBotAPI,
        proxy_url: str,
        workers: int,
        groups: list[CpuGroup],
        helpers: dict[str, CpuGroup],
        *,
        proxy_pid: int,
    ) -> Window:
        options = self.options
        buyers = Buyers(server, proxy_url, self.ids)
        started = time.monotonic()
        window_start = started + options.warmup
        stop_at = window_start + options.seconds
        stop_sampling = asyncio.Event()
        async with ClientSession(
            connector=TCPConnector(limit=0), timeout=ClientTimeout(total=120)
        ) as session:
            lanes = [
                asyncio.create_task(buyers.lane(session, stop_at)) for _ in range(options.slots)
            ]
            await asyncio.sleep(options.warmup)
            cpu = [group.cpu_seconds() for group in groups]
            throttled = [group.throttled() for group in groups]
            helper_cpu = {name: group.cpu_seconds() for name, group in helpers.items()}
            machine = MachineCpu()
            pg_before = postgres_cpu()
            driver_before, proxy_before = _cpu_seconds(os.getpid()), _cpu_seconds(proxy_pid)
            errors_429 = server.responses_429
            sampler = asyncio.create_task(sample_waits(self.dsn, DATABASE, stop_sampling))
            await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
            seconds = time.monotonic() - window_start
            cpu = [g.cpu_seconds() - c for g, c in zip(groups, cpu, strict=True)]
            throttled = [g.throttled() - t for g, t in zip(groups, throttled, strict=True)]
            helper_cpu = {n: g.cpu_seconds() - helper_cpu[n] for n, g in helpers.items()}
            idle_share = machine.idle_share()
            pg_cpu = postgres_cpu() - pg_before
            driver_cpu = _cpu_seconds(os.getpid()) - driver_before
            proxy_cpu = _cpu_seconds(proxy_pid) - proxy_before
            stop_sampling.set()
            waits, samples = await sampler
            await asyncio.gather(*lanes)
        server.on_sent.remove(buyers._sent)
        latencies = [lat for at, lat in buyers.done if window_start <= at < stop_at]
        return Window(
            workers,
            seconds,
            latencies,
            buyers.failures,
            cpu,
            throttled,
            helper_cpu.get("sender", 0.0),
            helper_cpu.get("sweeper", 0.0),
            idle_share,
            waits,
            samples,
            server.responses_429 - errors_429,
            pg_cpu,
            driver_cpu,
            proxy_cpu,
        )

    async def run(self) -> list[Window]:
        options = self.options
        await self.prepare()
        windows: list[Window] = []
        # Telegram's limits enforced, raised so they never bind: a 429 would still show.
        async with FakeBotAPI(
            enforce_limits=True,
            per_chat_per_second=1000.0,
            per_chat_burst=1000,
            global_per_second=1_000_000,
            group_per_minute=1_000_000,
        ) as server:
            helpers: dict[str, CpuGroup] = {}
            others: list[asyncio.subprocess.Process] = []
            if options.role == "web":
                for role in ("sender", "sweeper"):
                    process = await self.spawn(server, role)
                    group = self.group(role, options.helper_share)
                    await asyncio.sleep(0)
                    group.add(process.pid)
                    helpers[role] = group
                    others.append(process)
            try:
                for number in range(options.rounds):
                    for workers in options.workers:
                        idle = (
                            options.idle if number == 0 and workers == max(options.workers) else 0
                        )
                        window = await self.configuration(server, workers, helpers, idle)
                        print(f"round {number + 1}")
                        print("\n".join(window.lines()), flush=True)
                        windows.append(window)
            finally:
                for process in others:
                    process.send_signal(signal.SIGTERM)
                    await process.wait()
        return windows


async def _listening(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"a process for port {port} stopped at start-up")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listens on port {port} after 120 s")


def summary(windows: list[Window], workers: list[int]) -> list[str]:
    out = ["", "medians over the rounds:"]
    by = {n: [w for w in windows if w.workers == n] for n in workers}
    for n, items in by.items():
        cpu_ms = statistics.median(w.cpu_per_update_ms for w in items)
        out.append(
            f"{n} worker(s): {statistics.median(w.rate for w in items):.1f} round trips/s,"
            f" p50 {statistics.median(w.percentile(0.5) for w in items):.0f} ms,"
            f" p99 {statistics.median(w.percentile(0.99) for w in items):.0f} ms,"
            f" workers' CPU per round trip {cpu_ms:.2f} ms,"
            f" machine idle {statistics.median(w.idle_share for w in items):.1%},"
            f" 429s {sum(w.responses_429 for w in items)}"
        )
    one, most = min(workers), max(workers)
    pairs = list(zip(by[one], by[most], strict=False))
    ratios = [b.rate / a.rate for a, b in pairs]
    cpu = [b.cpu_per_update_ms / a.cpu_per_update_ms for a, b in pairs]
    out.append(
        f"{most} workers / {one}: throughput {statistics.median(ratios):.2f}x"
        f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)}), CPU per round trip"
        f" {statistics.median(cpu):.2f}x (rounds: {', '.join(f'{r:.2f}' for r in cpu)})"
    )
    out.append("target: 4 workers >= 3.7x one, CPU per round trip within 5% (<= 1.05x)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--share", type=float, default=0.2, help="each worker's cap, of a core")
    parser.add_argument(
        "--helper-share",
        type=float,
        default=None,
        help="the sender's and sweeper's cap (default: none, measured only)",
    )
    parser.add_argument("--role", choices=("web", "all"), default="web")
    parser.add_argument(
        "--by-chat", action="store_true", help="the proxy keeps a chat on one worker (a control)"
    )
    parser.add_argument("--slots", type=int, default=120, help="buyers talking at once")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--idle", type=float, default=10.0, help="idle CPU window (0: skip)")
    parser.add_argument("--pool", type=int, default=12_000, help="orders imported, one a buyer")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    options = parser.parse_args()
    options.shared_limits = hasattr(settings_module, "LimitsSettings")
    options.shared_media = hasattr(settings_module, "MediaSettings")
    if not available():
        sys.exit("needs root and a CPU cgroup controller (cgroup v1 cpu+cpuacct, or v2 cpu)")
    print(
        f"{options.workers} webhook workers (--role {options.role}), each capped at "
        f"{options.share:.0%} of a core; sender and sweeper "
        + (
            "in processes of their own, "
            + (f"capped at {options.helper_share:.0%}" if options.helper_share else "uncapped")
            if options.role == "web"
            else "inside each worker"
        )
        + f"; {options.slots} buyers at once"
        + ("; the proxy keeps a chat on one worker" if options.by_chat else "; round-robin proxy")
        + "; shared limits "
        + ("on (PostgreSQL)" if options.shared_limits else "not available (per process)")
        + ", shared media "
        + ("on (database)" if options.shared_media else "not available (one local folder)")
        + f"; load average at start {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="returndesk-scaleout-") as folder:
        bench = Bench(options, Path(folder))
        try:
            windows = asyncio.run(bench.run())
        finally:
            for group in bench.groups:
                group.close()
            asyncio.run(bench.drop())
            if options.keep_logs:
                options.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in Path(folder).glob("*.log"):
                    (options.keep_logs / log.name).write_bytes(log.read_bytes())
    print("\n".join(summary(windows, options.workers)))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
