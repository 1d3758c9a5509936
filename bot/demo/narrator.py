"""Prints a sandbox conversation as each party sees it."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bot.sandbox import Participant, Sandbox

ROLE_STYLE = {"buyer": "cyan", "seller": "magenta", "support": "yellow"}


class Narrator:
    def __init__(self, sandbox: Sandbox, console: Console, roles: dict[int, str]) -> None:
        self.sandbox = sandbox
        self.console = console
        self.roles = roles
        self._seen = 0

    def who(self, chat_id: int) -> str:
        person = self.sandbox.people.get(chat_id)
        name = person.name if person else str(chat_id)
        role = self.roles.get(chat_id, "buyer")
        locale = person.locale if person else "?"
        return f"{name} ({role}, {locale})"

    def action(self, person: Participant, what: str) -> None:
        style = ROLE_STYLE.get(self.roles.get(person.user_id, "buyer"), "white")
        self.console.print(
            Text.assemble(("  ▶ ", style), (person.name, f"bold {style}"), f" {what}")
        )

    def deliveries(self) -> None:
        for message in self.sandbox.log[self._seen :]:
            style = ROLE_STYLE.get(self.roles.get(message.chat_id, "buyer"), "white")
            body = Text(message.plain)
            if message.photos:
                body.append(f"\n[{len(message.photos)} photo(s) attached]", style="dim")
            for number, label in enumerate(message.labels, start=1):
                body.append(f"\n  [{number}] {label}", style="bold")
            self.console.print(
                Panel(
                    body,
                    title=f"to {self.who(message.chat_id)}",
                    title_align="left",
                    border_style=style,
                    width=96,
                )
            )
        self._seen = len(self.sandbox.log)

    def heading(self, text: str) -> None:
        self.console.rule(f"[bold]{text}")
