"""returndesk chat: talk to the engine from a terminal as any buyer, decider or support member."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rich.prompt import Prompt

from bot.cli.common import ConfigOption, DatabaseOption, console, run
from bot.cli.demo import DEMO_START
from bot.clock import FakeClock
from bot.demo import DEMO_ORDERS
from bot.demo.narrator import Narrator
from bot.domain.durations import parse_duration
from bot.sandbox import Participant, Sandbox

HELP = """Type a message to send it as the current person. Also:
  1, 2, 3 ...     press that button of the newest message
  /as NAME        switch person (buyers, deciders and support from the shop)
  /people         list who you can be
  /photo          send a photo (a placeholder picture)
  /wait 2h        move the clock forward (30s, 15m, 2h, 1d)
  /quit           leave
Anything else starting with / goes to the bot (/start, /help, /orders, /language, /cancel).
As a support member of a shop with no support group (the demo shop), in your own chat: take a
case, or pick one with /queue; then what you type goes to its buyer, and /offer AMOUNT,
/refund AMOUNT, /handback, /resolve act on it; "Switch case" or /switch picks another."""


def chat(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """An interactive chat with the bot in this terminal; buttons show as numbers."""
    run(_chat(config, database_url))


@dataclass
class Session:
    sandbox: Sandbox
    clock: FakeClock
    people: dict[str, Participant] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    current: Participant | None = None

    async def handle(self, line: str) -> bool:
        """Act on one line; False when the person wants to leave."""
        assert self.current is not None
        command, _, rest = line.partition(" ")
        match command:
            case "/quit":
                return False
            case "/people":
                for key, person in self.people.items():
                    console.print(f"  {key}: {person.name} ({self.roles[person.user_id]})")
            case "/as":
                self._switch(rest.strip().lower())
            case "/wait":
                self._wait(rest)
            case "/photo":
                await self.current.send_photo(caption=rest or None)
            case _ if line.isdigit():
                await _press(self.current, int(line))
            case _:
                await self.current.send(line)
        return True

    def _switch(self, key: str) -> None:
        chosen = self.people.get(key)
        if chosen is None:
            console.print(f"[red]no one called {key!r}; /people lists them[/]")
        else:
            self.current = chosen

    def _wait(self, text: str) -> None:
        try:
            self.clock.advance(parse_duration(text))
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            return
        console.print(f"[dim]now {self.clock.now():%Y-%m-%d %H:%M} UTC[/]")


async def _chat(config: Path | None, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="returndesk-chat-") as folder:
        clock = FakeClock(DEMO_START)
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'chat.db'}"
        sandbox = await Sandbox.open(database_url=url, clock=clock, config=config)
        try:
            if config is None:
                await sandbox.import_orders(DEMO_ORDERS)
            session = Session(sandbox, clock)
            _cast(session)
            narrator = Narrator(sandbox, console, session.roles)
            console.print(HELP)
            while True:
                assert session.current is not None
                line = Prompt.ask(f"[bold]{session.current.name}[/]").strip()
                if line and not await session.handle(line):
                    return
                narrator.deliveries()
        finally:
            await sandbox.close()


async def _press(person: Participant, number: int) -> None:
    keyboards = [m for m in reversed(person.inbox) if m.buttons]
    labels = keyboards[0].labels if keyboards else []
    if not 1 <= number <= len(labels):
        console.print(f"[red]there is no button {number}[/]")
        return
    await person.click(labels[number - 1], message=keyboards[0])


def _cast(session: Session) -> None:
    """The demo's buyers, and every decider and support member of the shop."""
    sandbox = session.sandbox
    shop = sandbox.app.shop
    cast = [(100001, "Иван", "ru", "buyer"), (100002, "Anna", "en", "buyer")]
    cast += [
        (d.telegram_id, d.name or str(d.telegram_id), s.language, "seller")
        for s in shop.sellers
        for d in s.deciders
    ]
    cast += [
        (m.telegram_id, m.name or str(m.telegram_id), shop.support.language, "support")
        for m in shop.support.members
    ]
    for user_id, name, language, role in cast:
        key = {"Иван": "ivan"}.get(name, name.split()[0].lower())
        session.people[key] = sandbox.person(user_id, name, language)
        session.roles[user_id] = role
    session.current = next(iter(session.people.values()))
