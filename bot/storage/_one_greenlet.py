"""Run a whole unit of database work in one greenlet, not one greenlet per statement (private:
`bot.storage.database.Database` installs it, `unit_of_work` is the door to it).

SQLAlchemy's asyncio layer runs the synchronous ORM and Core inside a greenlet, so that the
driver's awaits can hop back to the event loop. `AsyncSession` and `AsyncConnection` start a new
greenlet for every call (`execute`, `flush`, `commit`, even `begin`). On this project's machine
that costs about 33 µs a call on SQLite and on PostgreSQL alike, a third of what a one-row read
costs in all, and an update makes a dozen such calls.

`@one_greenlet` runs a coroutine function inside a single greenlet and drives it from there;
`install()` makes SQLAlchemy's asyncio layer call straight through when it is already inside
one. A driver's await still reaches the event loop: it switches to the greenlet's parent, which
awaits it, exactly as it does from a greenlet of SQLAlchemy's own. Outside `@one_greenlet`
nothing changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import engine as async_engine
from sqlalchemy.ext.asyncio import result as async_result
from sqlalchemy.ext.asyncio import session as async_session
from sqlalchemy.util import concurrency

P = ParamSpec("P")
T = TypeVar("T")

_spawn = concurrency.greenlet_spawn


async def _spawn_unless_inside(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if concurrency.in_greenlet():
        kwargs.pop("_require_await", None)
        return fn(*args, **kwargs)
    return await _spawn(fn, *args, **kwargs)


# The modules of SQLAlchemy's asyncio layer that start a greenlet a call, each through its own
# module-level name `greenlet_spawn` (tests/test_one_greenlet.py fails if that changes).
PATCHED = (async_engine, async_result, async_session)


def install() -> None:
    """Let SQLAlchemy's asyncio layer call through inside a greenlet (idempotent)."""
    for module in PATCHED:
        module.greenlet_spawn = _spawn_unless_inside  # type: ignore[attr-defined]


def installed() -> bool:
    return all(module.greenlet_spawn is _spawn_unless_inside for module in PATCHED)


def one_greenlet(
    function: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(function)
    async def in_one_greenlet(*args: P.args, **kwargs: P.kwargs) -> T:
        return await _spawn(_drive, function(*args, **kwargs))

    return in_one_greenlet


class _Suspend:
    """Hands what the coroutine yielded (a future, or None for a bare yield) up to the task."""

    __slots__ = ("yielded",)

    def __init__(self, yielded: Any) -> None:
        self.yielded = yielded

    def __await__(self) -> Generator[Any, None, None]:
        yield self.yielded


def _drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Step `coroutine` inside the current greenlet; each time it suspends, wait in the parent.

    The task resumes the coroutine as it would have: with nothing sent (a future's result is
    read by the coroutine itself), or with the exception, a cancellation included, thrown in.
    """
    error: BaseException | None = None
    while True:
        try:
            yielded = coroutine.send(None) if error is None else coroutine.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        error = None
        try:
            concurrency.await_(_Suspend(yielded))
        except BaseException as raised:
            error = raised
