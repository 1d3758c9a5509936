"""returndesk chat: talk to the engine from a terminal as any buyer, decider or support member."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import typer
from rich.prompt import Prompt

from bot.clock import FakeClock
from bot.cli.common import ConfigOption, DatabaseOption, console, run
from bot.cli.demo import DEMO_START
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
Anything else starting with / goes to the bot (/start, /help, /orders, /language, /cancel)."""


def chat(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """An interactive chat with the bot in this terminal; buttons show as numbers."""
    run(_chat(config, database_url))


async def _chat(config: Path | None, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="returndesk-chat-") as folder:
        clock = FakeClock(DEMO_START)
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'chat.db'}"
        sandbox = await Sandbox.open(database_url=url, clock=clock, config=config)
        try:
            if config is None:
                await sandbox.import_orders(DEMO_ORDERS)
            people, roles = _people(sandbox)
            narrator = Narrator(sandbox, console, roles)
            current = next(iter(people.values()))
            console.print(HELP)
            while True:
                line = Prompt.ask(f"[bold]{current.name}[/]").strip()
                if not line:
                    continue
                command, _, rest = line.partition(" ")
                if command == "/quit":
                    return
                if command == "/people":
                    for key, person in people.items():
                        console.print(f"  {key}: {person.name} ({roles[person.user_id]})")
                elif command == "/as":
                    chosen = people.get(rest.strip().lower())
                    if chosen is None:
                        console.print(f"[red]no one called {rest!r}; /people lists them[/]")
                    else:
                        current = chosen
                elif command == "/wait":
                    try:
                        clock.advance(parse_duration(rest))
                        console.print(f"[dim]now {clock.now():%Y-%m-%d %H:%M} UTC[/]")
                    except ValueError as error:
                        console.print(f"[red]{error}[/]")
                elif command == "/photo":
                    await current.send_photo(caption=rest or None)
                elif line.isdigit():
                    await _press(current, int(line))
                else:
                    await current.send(line)
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


def _people(sandbox: Sandbox) -> tuple[dict[str, Participant], dict[int, str]]:
    people: dict[str, Participant] = {}
    roles: dict[int, str] = {}
    shop = sandbox.app.shop
    demo_buyers = [(100001, "ivan", "Иван", "ru"), (100002, "anna", "Anna", "en")]
    for user_id, key, name, language in demo_buyers:
        people[key] = sandbox.person(user_id, name, language)
        roles[user_id] = "buyer"
    for seller in shop.sellers:
        for decider in seller.deciders:
            name = decider.name or str(decider.telegram_id)
            people[name.split()[0].lower()] = sandbox.person(
                decider.telegram_id, name, seller.language
            )
            roles[decider.telegram_id] = "seller"
    for member in shop.support.members:
        name = member.name or str(member.telegram_id)
        people[name.split()[0].lower()] = sandbox.person(
            member.telegram_id, name, shop.support.language
        )
        roles[member.telegram_id] = "support"
    return people, roles


__all__ = ["chat", "timedelta", "typer"]
