"""Every relative link in the README and the docs leads somewhere: the file exists and, when the
link names an anchor, the page has that heading or `<a name>`. A page that moves or a heading
that is renamed fails here instead of in a newcomer's browser."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted(
    [ROOT / "README.md", ROOT / "benchmarks" / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md")]
)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(?<!!)\[(?:[^\]]*)\]\(([^)\s]+)\)")
# "](" whose target breaks off at a space or a line's end: the page shows it as text.
CUT = re.compile(r"\]\([^)\s]*\s")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
NAMED = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")
# A page of docs/ named in code, with its anchor if any: "docs/design.md#exact-money".
CITED = re.compile(r"\bdocs/([\w-]+\.md)(?:#([\w-]+))?")
SOURCES = ("bot", "handlers", "tests", "benchmarks", "templates")


def prose(text: str) -> str:
    """The page without its code blocks, where brackets are code, not links."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lower case, punctuation removed,
    spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = prose(page.read_text(encoding="utf-8"))
    seen: Counter[str] = Counter()
    found = set(NAMED.findall(text))
    for heading in HEADING.findall(text):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(CODE.sub("", prose(page.read_text(encoding="utf-8"))))


def cut_links(page: Path) -> list[str]:
    return CUT.findall(CODE.sub("", prose(page.read_text(encoding="utf-8"))))


def test_slugs_are_githubs() -> None:
    assert slug("`returndesk run`'s start-up") == "returndesk-runs-start-up"
    assert slug('"Please choose one"') == "please-choose-one"
    assert slug("Timeouts, and sends Telegram may have taken") == (
        "timeouts-and-sends-telegram-may-have-taken"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [f"{cut!r}: a link cut in two" for cut in cut_links(page)]
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading in {file.relative_to(ROOT)}")
    assert not broken, broken


def test_every_docs_page_the_code_cites_exists() -> None:
    """Comments and docstrings say where the reason is written down; it must be there."""
    broken = []
    for folder in SOURCES:
        for source in sorted((ROOT / folder).rglob("*")):
            if source.suffix not in (".py", ".j2", ".toml") or "migrations" in source.parts:
                continue
            for page, anchor in CITED.findall(source.read_text(encoding="utf-8")):
                target = ROOT / "docs" / page
                where = f"{source.relative_to(ROOT)}: docs/{page}"
                if not target.exists():
                    broken.append(f"{where}: no such page")
                elif anchor and anchor not in anchors(target):
                    broken.append(f"{where}#{anchor}: no such heading")
    assert not broken, broken
