"""Point a validation error at the line of the TOML file that caused it."""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\".' ]+?)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

Path = tuple[str | int, ...]


def _split(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".")]


class LineIndex:
    """Maps key paths (as pydantic reports them: names and array indexes) to line numbers."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        arrays: dict[Path, int] = {}
        table: Path = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                table = self._resolve(_split(header.group(2)), arrays)
                if header.group(1) == "[[":
                    arrays[table] = arrays.get(table, -1) + 1
                    table = (*table, arrays[table])
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *_split(key.group(1)))
                self.lines.setdefault(path, number)
                brace = line.find("{", key.end())
                if brace != -1:
                    for inner in _INLINE_KEY.finditer(line, brace):
                        self.lines.setdefault((*path, inner.group(1).strip('"')), number)

    @staticmethod
    def _resolve(keys: Sequence[str], arrays: dict[Path, int]) -> Path:
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in arrays:
                path = (*path, arrays[path])
        return path

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of the deepest part of `loc` found in the file."""
        path = tuple(str(p) if not isinstance(p, int) else p for p in loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None
