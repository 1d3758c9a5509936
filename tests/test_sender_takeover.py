"""A sender that died mid-drain: its rows are taken over within seconds, not after the two-minute
lease (docs/operations.md#exactly-once-nothing-lost; docs/sender.md). Killed for real (SIGKILL,
in another process on this machine) its rows are free at once; silent (no heartbeat) they are
free a few seconds later. A live sender's rows are never taken over, and a sender presumed dead
that was only paused sends none of the rows taken from it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config.settings import SenderSettings, SettingsError, read
from bot.runtime.outbox import sender as outbox
from bot.runtime.outbox.limits import NoLimits
from bot.runtime.outbox.transport import Outbound
from bot.sandbox.memory import MemoryTransport
from bot.storage.database import Database
from tests.test_sender import _owe

CHATS = range(301, 321)
# Well inside the target (every owed reply out within 10 s of a restart), and far
# short of the lease.
SOON = timedelta(seconds=10)


async def _owe_two_each(db: Database, clock: FakeClock) -> dict[int, list[str]]:
    owed = {chat_id: [f"{chat_id}: first", f"{chat_id}: second"] for chat_id in CHATS}
    for chat_id, texts in owed.items():
        await _owe(db, clock, chat_id, texts)
    return owed


async def _held(db: Database) -> int:
    async with db.session() as session:
        held = select(func.count()).where(outbox.OUTBOX.c.status == "sending")
        return await session.scalar(held) or 0


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):  # the database is polled: no event tells
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"not so after {seconds} s")


async def _all_claimed(db: Database, rows: int) -> None:
    async def claimed() -> bool:
        return await _held(db) == rows

    await _until(claimed)


class Hanging:
    """A messenger that never answers: the sender hangs in its first sends."""

    def __init__(self) -> None:
        self.tried = 0

    async def deliver(self, message: Outbound) -> int:
        self.tried += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Gate(MemoryTransport):
    """Delivers once opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = asyncio.Event()

    async def deliver(self, message: Outbound) -> int:
        await self.opened.wait()
        return await super().deliver(message)


class Stalled(NoLimits):
    """A sender stalled before each send (its process paused, its event loop blocked) until
    let go."""

    def __init__(self) -> None:
        super().__init__()
        self.let_go = asyncio.Event()

    async def acquire(self, chat_id: int) -> None:
        await self.let_go.wait()


def _in_order(transport: MemoryTransport, owed: dict[int, list[str]]) -> None:
    """Every owed row delivered once, each chat's in order."""
    assert len(transport.log) == sum(len(texts) for texts in owed.values())
    for chat_id, texts in owed.items():
        assert [m.text for m in transport.chats[chat_id]] == texts


async def test_a_silent_senders_rows_are_taken_over_within_seconds_not_after_the_lease(
    db: Database, clock: FakeClock
) -> None:
    owed = await _owe_two_each(db, clock)
    killed = outbox.OutboxSender(db=db, transport=Hanging(), clock=clock, limiter=NoLimits())
    dying = asyncio.create_task(killed.deliver_due())
    await _all_claimed(db, 2 * len(CHATS))
    # Killed mid-drain: it stops, beats no more and gives nothing back.
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)

    clock.advance(SOON)
    transport = MemoryTransport()
    successor = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    assert await successor.drain() == 2 * len(CHATS)
    _in_order(transport, owed)


async def test_a_sender_killed_by_sigkill_on_this_machine_is_replaced_at_once(
    db: Database, clock: FakeClock
) -> None:
    """No time passes at all: the successor sees that the process holding the rows is gone."""
    owed = await _owe_two_each(db, clock)
    url = db.url.render_as_string(hide_password=False)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_SENDER,
        url,
        db.schema or "",
        clock.now().isoformat(),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        async with asyncio.timeout(60):
            assert await child.stdout.readline() == b"sending\n"
        await _all_claimed(db, 2 * len(CHATS))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        await child.wait()

    transport = MemoryTransport()
    successor = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    assert await successor.drain() == 2 * len(CHATS)
    _in_order(transport, owed)


# A sender in a process of its own, running as `returndesk run` runs it, that hangs in its
# first send (argv: database URL, PostgreSQL schema or "", the fake clock's time).
_KILLED_SENDER = """
import asyncio, sys
from datetime import datetime
from bot.clock import FakeClock
from bot.config.settings import SenderSettings, SettingsError, read
from bot.runtime.outbox.limits import NoLimits
from bot.runtime.outbox.sender import OutboxSender
from bot.storage.database import Database
from tests.test_sender import _owe

class Hanging:
    async def deliver(self, message):
        print("sending", flush=True)
        await asyncio.Event().wait()

async def main():
    url, schema, now = sys.argv[1:]
    db = Database(url, schema=schema or None)
    clock = FakeClock(datetime.fromisoformat(now))
    sender = OutboxSender(db=db, transport=Hanging(), clock=clock, limiter=NoLimits())
    await sender.run(asyncio.Event())

asyncio.run(main())
"""


async def test_a_live_senders_rows_are_never_taken_over(db: Database, clock: FakeClock) -> None:
    owed = await _owe_two_each(db, clock)
    transport = Gate()
    holder = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    holding = asyncio.create_task(holder.deliver_due())
    await _all_claimed(db, 2 * len(CHATS))

    other = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    for _ in range(50):  # 100 s: long past anyone's presumption of death, inside the lease
        clock.advance(timedelta(seconds=2))
        await holder.heartbeat.beat()  # alive, in the middle of its sends
        assert await other.deliver_due() == (0, 0)
    assert await _held(db) == 2 * len(CHATS)

    transport.opened.set()
    assert await holding == (2 * len(CHATS), 2 * len(CHATS))
    _in_order(transport, owed)


async def test_a_sender_presumed_dead_while_only_stalled_sends_none_of_its_rows(
    db: Database, clock: FakeClock
) -> None:
    owed = await _owe_two_each(db, clock)
    transport = MemoryTransport()
    stalled = Stalled()
    paused = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=stalled)
    pausing = asyncio.create_task(paused.deliver_due())
    await _all_claimed(db, 2 * len(CHATS))

    clock.advance(SOON)  # no heartbeat from it all that time
    other = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    assert await other.drain() == 2 * len(CHATS)

    # It wakes up: its last heartbeat is too old for it to send, and its next one finds that it
    # was presumed dead. What it held is someone else's now.
    stalled.let_go.set()
    assert await pausing == (0, 2 * len(CHATS))
    assert await paused.drain() == 0
    _in_order(transport, owed)


async def test_a_sender_stopped_with_replies_in_hand_gives_them_back_at_once(
    db: Database, clock: FakeClock
) -> None:
    """As `returndesk run` stops a sender that is still delivering after its 30 s: the next
    start sends what it held at once, not when the lease ends."""
    owed = await _owe_two_each(db, clock)
    stopping = asyncio.Event()
    stopped = outbox.OutboxSender(db=db, transport=Gate(), clock=clock, limiter=NoLimits())
    running = asyncio.create_task(stopped.run(stopping))
    await _all_claimed(db, 2 * len(CHATS))
    stopping.set()
    with pytest.raises(TimeoutError):  # it cannot finish: its sends never return
        await asyncio.wait_for(running, 0.5)
    assert await _held(db) == 0

    transport = MemoryTransport()
    successor = outbox.OutboxSender(db=db, transport=transport, clock=clock, limiter=NoLimits())
    assert await successor.drain() == 2 * len(CHATS)
    _in_order(transport, owed)


def test_a_sender_is_presumed_dead_only_after_several_missed_heartbeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETURNDESK_SENDER_HEARTBEAT_EVERY", "2")
    monkeypatch.setenv("RETURNDESK_SENDER_PRESUMED_DEAD_AFTER", "6")
    with pytest.raises(SettingsError) as refused:
        read(SenderSettings)
    [problem] = refused.value.problems
    assert problem.startswith("RETURNDESK_SENDER_PRESUMED_DEAD_AFTER: ")
    assert "four times RETURNDESK_SENDER_HEARTBEAT_EVERY" in problem
