"""The catalogs keep up with the templates: every message the templates use is translated in every
language, none fuzzy, empty or stale, and the committed .pot and .po files are what pybabel makes
of the templates today (docs/translations.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.config.shop import Language
from bot.rendering import LOCALES, Reader, Renderer
from bot.rendering.renderer import CATALOG, DEFAULT_LOCALE

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "templates" / "locales"
POT = LOCALES_DIR / "messages.pot"
# The commands docs/translations.md gives, run the way `pybabel` runs them.
PYBABEL = [sys.executable, "-m", "babel.messages.frontend", "-q"]
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "--add-location",
    "file",
    "--no-wrap",
    "-c",
    "Translators:",
    "--project",
    "ReturnDesk",
]
UPDATE = ["update", "--no-wrap", "--ignore-obsolete"]


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def key(message: Any) -> tuple[Any, ...]:
    return (message.context, message.id)


def entries(catalog: Catalog, *, strings: bool) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """What a catalog says about each message, without its header's dates."""
    return {
        key(m): (
            m.string if strings else None,
            sorted(m.flags),
            list(m.auto_comments),
            sorted(m.locations),
        )
        for m in catalog
        if m.id
    }


def test_the_pot_holds_exactly_the_messages_of_the_templates(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run([*PYBABEL, *EXTRACT, "-o", str(fresh), "templates"], cwd=ROOT, check=True)
    made, committed = entries(read(fresh), strings=False), entries(read(POT), strings=False)
    assert sorted(made.keys() - committed.keys(), key=str) == [], "run pybabel extract"
    assert sorted(committed.keys() - made.keys(), key=str) == [], "run pybabel extract"
    assert made == committed, "run pybabel extract: comments or places changed"


def test_every_catalog_is_up_to_date_with_the_pot(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy)
    subprocess.run(
        [*PYBABEL, *UPDATE, "-i", str(copy / "messages.pot"), "-d", str(copy)], check=True
    )
    for locale in LOCALES:
        updated = entries(read(copy / locale / CATALOG), strings=True)
        committed = entries(read(LOCALES_DIR / locale / CATALOG), strings=True)
        assert updated == committed, f"run pybabel update: {locale}'s catalog is behind the .pot"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_once_and_for_now(locale: str) -> None:
    catalog = read(LOCALES_DIR / locale / CATALOG, locale)
    used = {key(m) for m in read(POT) if m.id}
    have = {key(m) for m in catalog if m.id}
    assert sorted(used - have, key=str) == [], f"{locale} misses these messages"
    assert sorted(have - used, key=str) == [], f"{locale} has stale messages"
    assert list(catalog.obsolete) == [], f"{locale} keeps obsolete (#~) messages"
    assert [m.id for m in catalog if m.id and m.fuzzy] == [], f"{locale} has fuzzy messages"
    if locale != DEFAULT_LOCALE:  # the templates' own text is the source language's
        empty = [
            m.id
            for m in catalog
            if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
        ]
        assert empty == [], f"{locale} leaves these untranslated"
    # Babel's checks: each plural has the language's number of forms, placeholders match.
    assert [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()] == []


def test_the_languages_a_seller_may_choose_are_those_with_a_catalog() -> None:
    assert LOCALES[0] == DEFAULT_LOCALE
    assert sorted(LOCALES) == sorted(get_args(Language))


def test_a_sellers_folder_overrides_a_template_or_a_single_message(tmp_path: Path) -> None:
    (tmp_path / "ru" / "buyer").mkdir(parents=True)
    (tmp_path / "ru" / "buyer" / "menu.j2").write_text("Что-нибудь ещё?\n")
    (tmp_path / "buyer").mkdir()
    (tmp_path / "buyer" / "ask_item.j2").write_text("{% trans %}Which one?{% endtrans %}\n")
    ours = tmp_path / "locales" / "zh" / CATALOG
    ours.parent.mkdir(parents=True)
    ours.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "What else can I do for you?"\nmsgstr "还需要什么帮助吗？"\n',
        encoding="utf-8",
    )
    shipped, seller = Renderer(overrides=None), Renderer(overrides=tmp_path)
    assert seller.render("buyer/menu", Reader("ru")) == "Что-нибудь ещё?"
    assert seller.render("buyer/menu", Reader("en")) == shipped.render("buyer/menu", Reader("en"))
    assert seller.render("buyer/ask_item", Reader("en")) == "Which one?"
    assert seller.render("buyer/menu", Reader("zh")) == "还需要什么帮助吗？"
    assert shipped.render("buyer/menu", Reader("zh")) != "还需要什么帮助吗？"
    assert seller.render("buyer/ask_want", Reader("zh")) == shipped.render(
        "buyer/ask_want", Reader("zh")
    )
