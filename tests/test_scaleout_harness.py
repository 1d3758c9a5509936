"""The scale-out benchmark's pieces (benchmarks/scaleout): its proxy takes turns between the
workers, and its CPU groups hold the quota written to them and count their processes' CPU.
No timing is asserted: the benchmark reports speed, the tests check the tools."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from aiohttp import ClientSession, web

from benchmarks.scaleout.cgroups import CpuGroup, MachineCpu, available
from benchmarks.scaleout.proxy import chat_of, proxy_app


async def test_the_proxy_sends_each_request_to_the_next_worker_in_turn() -> None:
    seen: list[tuple[str, str, str]] = []
    runners = []
    backends = []
    for name in ("a", "b", "c"):

        async def receive(request: web.Request, name: str = name) -> web.Response:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            seen.append((name, request.path, secret))
            return web.Response(status=200 if name != "c" else 202, text=f"from {name}")

        app = web.Application()
        app.router.add_post("/{path:.*}", receive)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        backends.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    proxy = web.AppRunner(proxy_app(backends))
    await proxy.setup()
    await web.TCPSite(proxy, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{proxy.addresses[0][1]}/telegram/webhook"
    try:
        async with ClientSession() as session:
            answers = []
            for _ in range(6):
                async with session.post(
                    url, data=b"{}", headers={"X-Telegram-Bot-Api-Secret-Token": "s3"}
                ) as answer:
                    answers.append((answer.status, await answer.text()))
    finally:
        await proxy.cleanup()
        for runner in runners:
            await runner.cleanup()
    assert [name for name, _, _ in seen] == ["a", "b", "c", "a", "b", "c"]
    assert {(path, secret) for _, path, secret in seen} == {("/telegram/webhook", "s3")}
    assert answers[:3] == [(200, "from a"), (200, "from b"), (202, "from c")]


def test_the_proxy_by_chat_reads_the_chat_of_a_message_and_of_a_pressed_button() -> None:
    assert chat_of(b'{"update_id": 1, "message": {"chat": {"id": 42}}}') == 42
    pressed = b'{"update_id": 2, "callback_query": {"message": {"chat": {"id": 7}}}}'
    assert chat_of(pressed) == 7
    assert chat_of(b'{"update_id": 3, "my_chat_member": {}}') is None
    assert chat_of(b"not json") is None


@pytest.mark.skipif(not available(), reason="needs root and a CPU cgroup controller")
def test_a_cpu_group_holds_its_quota_and_counts_its_process() -> None:
    group = CpuGroup(f"returndesk-test-{uuid.uuid4().hex[:8]}", 0.2)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert group.quota() == pytest.approx(0.2)
        group.set_share(None)
        assert group.quota() is None
        group.set_share(0.1)
        assert group.quota() == pytest.approx(0.1)
        before = group.cpu_seconds()
        group.add(busy.pid)
        machine = MachineCpu()
        while group.cpu_seconds() - before < 0.05:  # the process's CPU lands in the group
            os.sched_yield()
        assert 0.0 <= machine.idle_share() <= 1.0
        assert group.throttled() >= 0
    finally:
        busy.kill()
        busy.wait()
        group.close()
    assert not any(folder.exists() for folder in group.dirs)
