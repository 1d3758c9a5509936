"""returndesk understand: what the bot makes of a buyer's words, as JSON (docs/understanding.md)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from bot.config.settings import SettingsError
from bot.understanding import LANGUAGES
from bot.understanding.lexicon import LexiconError


class Language(StrEnum):
    ru = "ru"
    en = "en"
    zh = "zh"


def understand(
    text: Annotated[str | None, typer.Argument(help="A buyer's message.")] = None,
    language: Annotated[
        Language | None,
        typer.Option(help="Read the text in this language; unset: by its script."),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help='JSON lines {"text": ..., "language": ...} ("-" reads standard input); '
            "one JSON line out per line in, in order.",
        ),
    ] = None,
) -> None:
    """Print what the bot understands in a text: {"intent", "reason", "order", "confidence"}."""
    from bot.services import understanding

    if (text is None) == (file is None):
        raise typer.BadParameter("give a TEXT or --file, one of them")
    try:
        understanding.warm()
    except (SettingsError, LexiconError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    if text is not None:
        _print(understanding.understand(text, language).as_json())
        return
    assert file is not None
    if file == "-":
        bad = _each_line(sys.stdin, language)
    else:
        try:
            with Path(file).open(encoding="utf-8") as lines:
                bad = _each_line(lines, language)
        except OSError as error:
            typer.echo(f"{file}: {error.strerror}", err=True)
            raise typer.Exit(2) from error
    if bad:
        raise typer.Exit(1)


def _each_line(lines: IO[str], default: Language | None) -> int:
    """Answers every line in order; a bad line gets {"error": ...} in its place (and on stderr),
    and the rest go on. Returns how many were bad."""
    from bot.services import understanding

    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            text, language = _parse(line, default)
        except ValueError as error:
            bad += 1
            typer.echo(f"line {number}: {error}", err=True)
            _print({"line": number, "error": str(error)})
            continue
        _print(understanding.understand(text, language).as_json())
    return bad


def _parse(line: str, default: Language | None) -> tuple[str, str | None]:
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg})") from error
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError('expected an object with a "text" string')
    language = data.get("language", default)
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return data["text"], language


def _print(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
