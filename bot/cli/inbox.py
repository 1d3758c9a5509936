"""returndesk inbox: the updates set aside after failing to be applied (docs/poison-updates.md),
and `retry` / `drop` to act on one."""

from __future__ import annotations

import traceback
from typing import Annotated, Any

import typer

from bot.cli import logs
from bot.cli.common import ConfigOption, DatabaseOption, console, errors, open_app, run
from bot.cli.telegram import TransportOption
from bot.config.settings import TelegramSettings, read
from bot.runtime.telegram.dead_letters import DeadLetters, last_line
from bot.runtime.telegram.runner import TelegramRunner
from bot.runtime.telegram.service import SetupError, make_adapter
from bot.storage.models import DeadLetter

inbox = typer.Typer(
    help="Updates set aside after failing to be applied: list them, retry or drop one.",
    invoke_without_command=True,
)
IdArgument = Annotated[int, typer.Argument(help="The number `returndesk inbox` shows.")]


@inbox.callback()
def listing(
    ctx: typer.Context, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """List the updates set aside, oldest first, each with its last error."""
    if ctx.invoked_subcommand is not None:
        return

    async def go() -> list[DeadLetter]:
        app = await open_app(database_url, config)
        try:
            return await DeadLetters(app.db, app.clock, app.renderer, app.shop).listed()
        finally:
            await app.close()

    letters = run(go())
    if not letters:
        console.print("No update is set aside.")
        return
    for letter in letters:
        console.print(
            f"#{letter.id}  {letter.set_aside_at:%Y-%m-%d %H:%M:%S} UTC  chat {letter.chat_id}  "
            f"update {letter.update_id}  {letter.attempts} tries  {_what(letter.data)}",
            markup=False,
        )
        console.print(f"    {last_line(letter.error)}", markup=False)


@inbox.command("drop")
def drop(
    letter_id: IdArgument, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """Delete a set-aside update: it will never be applied."""

    async def go() -> bool:
        app = await open_app(database_url, config)
        try:
            return await DeadLetters(app.db, app.clock, app.renderer, app.shop).drop(letter_id)
        finally:
            await app.close()

    if not run(go()):
        errors.print(f"#{letter_id} is not one of the updates set aside.")
        raise typer.Exit(1)
    console.print(f"Dropped update #{letter_id}.")


@inbox.command("retry")
def retry(
    letter_id: IdArgument,
    transport: TransportOption = "aiogram",
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Apply a set-aside update once more, as Telegram sent it. Its replies go out with the
    running bot's (or at its next start). Needs the bot's RETURNDESK_TELEGRAM_* settings: a
    photo in it is downloaded from Telegram again."""
    logs.for_the_bot()
    try:
        code, said = run(_retry(letter_id, transport, config, database_url))
    except SetupError as error:
        errors.print(f"[bold red]Cannot retry:[/] {error}", markup=True)
        raise typer.Exit(2) from error
    (console if code == 0 else errors).print(said, markup=False)
    raise typer.Exit(code)


async def _retry(
    letter_id: int, transport: str, config: Any, database_url: str | None
) -> tuple[int, str]:
    settings = read(TelegramSettings)
    if settings.token is not None:
        logs.hide([settings.token.get_secret_value()])
    app = await open_app(database_url, config)
    try:
        letters = DeadLetters(app.db, app.clock, app.renderer, app.shop)
        letter = await letters.get(letter_id)
        if letter is None:
            return 1, f"#{letter_id} is not one of the updates set aside."
        adapter = make_adapter(transport, settings, app.media)
        try:
            try:
                identity = await adapter.start()
            except Exception as error:  # its words may quote a URL, with the token in it
                raise SetupError(
                    f"cannot reach the Bot API at {settings.api_url} ({type(error).__name__})"
                ) from error
            if identity.id != letter.bot_id:
                raise SetupError(
                    f"update #{letter_id} came to bot {letter.bot_id}, and "
                    f"RETURNDESK_TELEGRAM_TOKEN is bot {identity.id}'s"
                )
            runner = TelegramRunner(engine=app.engine, adapter=adapter)
            try:
                await runner.apply_once(adapter.parse_update(letter.data))
            except Exception:
                trace = traceback.format_exc()
                await letters.failed_again(letter_id, trace)
                return 1, f"Update #{letter_id} failed again: {last_line(trace)}"
            await letters.drop(letter_id)
            return 0, f"Applied update #{letter_id}."
        finally:
            await adapter.close()
    finally:
        await app.close()


def _what(data: dict[str, Any]) -> str:
    """A few words on what the update was: its text, a button's data, or its kind."""
    for kind in ("message", "edited_message", "callback_query"):
        body = data.get(kind)
        if isinstance(body, dict):
            said = body.get("text") or body.get("caption") or body.get("data")
            if isinstance(said, str):
                return f"{kind}: {said[:60]!r}"
            shown = [k for k in ("photo", "document", "sticker", "voice") if k in body]
            return f"{kind}: {shown[0] if shown else '...'}"
    return "?"
