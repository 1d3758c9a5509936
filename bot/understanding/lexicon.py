"""The words each intent and reason is recognised by, one TOML file a language
(templates/lexicon/<language>.toml), extended by a seller's file at the same path in the
RETURNDESK_TEMPLATES folder (docs/understanding.md#the-lexicon-files).

A file holds `stopwords` (words that say nothing here and are dropped) and two tables,
`[intents]` and `[reasons]`, of name = [phrases]. An English or Russian phrase matches when every
word of it, reduced to its stem, is in the message in any order; a Chinese phrase's
space-separated parts must each be in the message, a single character only as a word of its own.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.enums import Reason
from bot.understanding.model import Intent

# Intents a phrase can name; "unknown" is what is left when none matches.
NAMED_INTENTS = tuple(i for i in Intent if i is not Intent.UNKNOWN)


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and what is wrong."""


@dataclass
class Lexicon:
    language: str
    stopwords: set[str] = field(default_factory=set)
    intents: dict[Intent, list[str]] = field(default_factory=dict)
    reasons: dict[Reason, list[str]] = field(default_factory=dict)

    def extend(self, path: Path) -> None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise LexiconError(f"{path}: {error}") from error
        self.stopwords.update(_strings(path, "stopwords", data.get("stopwords", [])))
        for name, phrases in _table(path, data, "intents").items():
            if name not in NAMED_INTENTS:
                raise LexiconError(f"{path}: [intents] {name!r} is not one of {_names(Intent)}")
            self.intents.setdefault(Intent(name), []).extend(_strings(path, name, phrases))
        for name, phrases in _table(path, data, "reasons").items():
            if name not in Reason.__members__.values():
                raise LexiconError(f"{path}: [reasons] {name!r} is not one of {_names(Reason)}")
            self.reasons.setdefault(Reason(name), []).extend(_strings(path, name, phrases))


def load_lexicons(folders: Iterable[Path], languages: Iterable[str]) -> dict[str, Lexicon]:
    """Each language's lexicon: the files `lexicon/<language>.toml` of the folders, in order,
    each adding to the ones before (the shipped templates first, then a seller's)."""
    folders = list(folders)
    lexicons: dict[str, Lexicon] = {}
    for language in languages:
        lexicon = Lexicon(language)
        for folder in folders:
            path = folder / "lexicon" / f"{language}.toml"
            if path.is_file():
                lexicon.extend(path)
        lexicons[language] = lexicon
    return lexicons


def _table(path: Path, data: dict[str, object], name: str) -> dict[str, object]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise LexiconError(f"{path}: [{name}] must be a table of name = [phrases]")
    return table


def _strings(path: Path, name: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{path}: {name} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _names(kind: Iterable[object]) -> str:
    return ", ".join(str(k) for k in kind)
