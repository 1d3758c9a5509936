"""Chat lanes: one chat's jobs one at a time in the order handed in, chats in parallel."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime.telegram.lanes import ChatLanes


async def test_a_chats_jobs_run_in_order_while_other_chats_run_alongside() -> None:
    lanes = ChatLanes()
    log: list[str] = []
    gate = asyncio.Event()

    def job(name: str, wait: bool = False):  # type: ignore[no-untyped-def]
        async def run() -> None:
            log.append(f"{name} starts")
            if wait:
                await gate.wait()
            log.append(f"{name} ends")

        return run

    lanes.submit(1, job("a1", wait=True))
    lanes.submit(1, job("a2"))
    lanes.submit(2, job("b1"))
    await asyncio.sleep(0.01)
    # Chat 2 ran while chat 1's first job was held; chat 1's second job waited for it.
    assert log == ["a1 starts", "b1 starts", "b1 ends"]
    assert len(lanes) == 2
    gate.set()
    await lanes.idle()
    assert log[3:] == ["a1 ends", "a2 starts", "a2 ends"]
    assert len(lanes) == 0


async def test_a_failing_job_tells_its_waiter_and_holds_up_nothing_after_it() -> None:
    lanes = ChatLanes()
    done: list[int] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        done.append(1)

    with pytest.raises(RuntimeError, match="boom"):
        await lanes.run(7, broken)
    await lanes.run(7, fine)
    assert done == [1]


async def test_below_waits_until_enough_jobs_have_finished() -> None:
    lanes = ChatLanes()
    gates = [asyncio.Event() for _ in range(3)]
    for chat, gate in enumerate(gates):
        lanes.submit(chat, gate.wait)  # type: ignore[arg-type]
    waiting = asyncio.create_task(lanes.below(2))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # three in hand
    gates[0].set()
    await asyncio.sleep(0.01)
    assert not waiting.done()  # two in hand: still not below two
    gates[1].set()
    await asyncio.wait_for(waiting, 1)
    gates[2].set()
    await lanes.idle()
