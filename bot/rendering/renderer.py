"""Jinja templates with Telegram-HTML escaping, strict variables, gettext catalogs and Babel
filters.

Telegram's HTML parse mode understands exactly the entities Jinja's escaping produces (&lt; &gt;
&amp; &#34; &#39;), so autoescaping every template makes any user text safe to embed; the
newstyle gettext of `jinja2.ext.i18n` escapes a message's variables the same way.

One template tree serves every language: its sentences are gettext messages whose translations
live in templates/locales/<locale>/LC_MESSAGES/messages.po (docs/translations.md). Each locale has
its own Jinja environment with its catalog installed, so a render looks nothing up per message.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup

from bot.domain.money import Money

DEFAULT_LOCALE = "en"  # the language of the templates' own text: the catalogs' msgids
CATALOG = Path("LC_MESSAGES") / "messages.po"
# Labels whose variables are all values of these kinds depend on nothing else, so each is
# rendered once; a label of an order or an offer (which change) is rendered every time.
_VALUE_TYPES = (str, int, Decimal, Enum, Money)
_LABEL_CACHE_SIZE = 4096


def templates_root() -> Path:
    """The checkout's templates/ folder, or the copy packed into an installed wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "templates", here / "_templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("templates/ not found: reinstall the package")


def overrides_root() -> Path | None:
    """A seller's folder of templates and messages that take precedence over the shipped ones
    (docs/translations.md)."""
    configured = os.environ.get("RETURNDESK_TEMPLATES")
    return Path(configured) if configured else None


def catalog_locales(root: Path) -> tuple[str, ...]:
    """The locales with a catalog under root/locales: each is a language a reader can choose."""
    found = sorted(path.parent.parent.name for path in root.glob(f"locales/*/{CATALOG}"))
    return (DEFAULT_LOCALE, *(locale for locale in found if locale != DEFAULT_LOCALE))


LOCALES = catalog_locales(templates_root())


def locale_for(language_code: str | None) -> str:
    """Telegram's language codes ("ru", "zh-hans", "en-US") to the locales we have."""
    if not language_code:
        return DEFAULT_LOCALE
    base = language_code.lower().replace("_", "-").split("-")[0]
    return base if base in LOCALES else DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads a message: their locale and time zone decide words, numbers and times."""

    locale: str
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _reader(context: Context) -> Reader:
    reader = context.get("reader")
    if not isinstance(reader, Reader):  # pragma: no cover - guarded by Renderer.render
        raise TypeError("templates are rendered with a reader")
    return reader


@pass_context
def _money(context: Context, value: Money) -> str:
    return _formatted_money(value, _reader(context).locale)


# Cached: an amount recurs in a conversation's messages (the offer, the agreement, the seller's
# card) and across a shop's orders, and Babel works through the locale's patterns on every call.
@lru_cache(maxsize=4096)
def _formatted_money(value: Money, locale: str) -> str:
    return str(format_currency(value.amount, value.currency, locale=locale))


def format_money(value: Money, locale: str) -> str:
    """An amount as the templates' `money` filter writes it, for text made outside a template
    (the report's tables and charts: docs/reports.md)."""
    return _formatted_money(value, locale)


@pass_context
def _number(context: Context, value: Any) -> str:
    return str(format_decimal(value, locale=_reader(context).locale))


@pass_context
def _when(context: Context, value: datetime) -> str:
    """Weekday, date and time in the reader's zone: "Tue, Nov 17 14:00"."""
    reader = _reader(context)
    day = format_skeleton("MMMEd", value, tzinfo=reader.zone, locale=reader.locale)
    time = format_skeleton("Hm", value, tzinfo=reader.zone, locale=reader.locale)
    return f"{day} {time}"


@pass_context
def _date(context: Context, value: datetime) -> str:
    reader = _reader(context)
    return str(format_skeleton("yMMMd", value, tzinfo=reader.zone, locale=reader.locale))


@pass_context
def _zone_name(context: Context, value: datetime) -> str:
    reader = _reader(context)
    return str(format_datetime(value, "zzzz", tzinfo=reader.zone, locale=reader.locale))


@pass_context
def _duration(context: Context, value: timedelta) -> str:
    return str(format_timedelta(value, locale=_reader(context).locale, threshold=1.5))


@lru_cache(maxsize=64)
def _language_name(code: str) -> str:
    """A language in its own words ("Deutsch", "中文"), so a new catalog needs no label."""
    name = str(Locale.parse(code).get_display_name(code))
    return name[:1].upper() + name[1:]


_TAG = re.compile(r"<[^>]+>")


def plain_text(rendered: str) -> str:
    """A rendered message as a person reads it: tags gone, entities resolved (for places that
    take no HTML, such as a topic's name, and for tests)."""
    return html.unescape(_TAG.sub("", rendered))


def _clip(value: str, limit: int = 500) -> str:
    """Shorten user text quoted in a message; the full text stays in the transcript."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def load_catalog(path: Path, locale: str) -> Translations:
    """A .po file compiled in memory: no .mo files to build or ship. Fuzzy and empty entries
    are left out, so the English text shows instead (tests/test_catalogs.py keeps the shipped
    catalogs free of them)."""
    with path.open("rb") as file:
        catalog = read_po(file, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def translations(locale: str, root: Path, overrides: Path | None = None) -> Translations:
    """The shipped catalog of a locale, with a seller's messages for it on top."""
    merged = load_catalog(root / "locales" / locale / CATALOG, locale)
    if overrides is not None and (overrides / "locales" / locale / CATALOG).is_file():
        merged.merge(load_catalog(overrides / "locales" / locale / CATALOG, locale))
    return merged


def _formatted(message: str, variables: dict[str, Any]) -> Markup:
    # The message is the template's own text or its translation from a catalog, trusted as the
    # templates are, so it stays HTML; its variables are escaped as {{ }} would escape them. A
    # message without variables or "%" (written "%%") is as it is.
    if not variables and "%" not in message:
        return Markup(message)  # noqa: S704
    return Markup(message) % variables  # noqa: S704


def _install_gettext(env: Environment, catalog: Translations) -> None:
    """Newstyle gettext exactly as jinja2.ext.i18n defines it for an autoescaping environment,
    called straight from the template: the extension's own functions go through the template
    context a second time for every message."""

    def gettext(message: str, /, **variables: Any) -> Markup:
        return _formatted(catalog.gettext(message), variables)

    def ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return _formatted(catalog.ngettext(singular, plural, num), variables)

    def pgettext(context: str, message: str, /, **variables: Any) -> Markup:
        variables.setdefault("context", context)
        return _formatted(str(catalog.pgettext(context, message)), variables)

    def npgettext(
        context: str, singular: str, plural: str, num: int, /, **variables: Any
    ) -> Markup:
        variables.setdefault("context", context)
        variables.setdefault("num", num)
        return _formatted(str(catalog.npgettext(context, singular, plural, num)), variables)

    # The extension reads this flag when it compiles a {% trans %} block; it is not a declared
    # attribute of Environment, hence the cast.
    cast(Any, env).newstyle_gettext = True
    env.globals.update(
        gettext=gettext, _=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext
    )


class Renderer:
    def __init__(self, root: Path | None = None, overrides: Path | None = None) -> None:
        self.root = root or templates_root()
        self.overrides = overrides if overrides is not None else overrides_root()
        self.envs = {locale: self._environment(locale) for locale in catalog_locales(self.root)}
        self._label_modules: dict[Reader, Any] = {}
        self._label_cache: dict[tuple[Any, ...], str] = {}

    def _environment(self, locale: str) -> Environment:
        """A seller's templates/<locale>/ first, then their templates/, then the shipped ones."""
        loaders: list[BaseLoader] = []
        if self.overrides is not None:
            loaders += [FileSystemLoader(self.overrides / locale), FileSystemLoader(self.overrides)]
        env = Environment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(self.root)]),
            extensions=["jinja2.ext.i18n"],
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,  # an include ends its last line; see seller/_case.j2
            auto_reload=False,
        )
        # A {% trans %} block may wrap over lines; babel.cfg extracts with the same setting.
        env.policies["ext.i18n.trimmed"] = True
        _install_gettext(env, translations(locale, self.root, self.overrides))
        env.filters.update(
            money=_money,
            number=_number,
            when=_when,
            date=_date,
            zone=_zone_name,
            duration=_duration,
            clip=_clip,
            language_name=_language_name,
        )
        return env

    def render(self, name: str, reader: Reader, /, **variables: Any) -> str:
        """Render templates/<name>.j2 in the reader's language as Telegram HTML. The reader's
        labels.j2 comes in as `l`, built once per reader: importing it in each template would
        run the whole file again on every render."""
        template = self.envs[reader.locale].get_template(f"{name}.j2")
        return template.render(reader=reader, l=self._labels(reader), **variables).strip()

    def label(self, name: str, reader: Reader, /, **variables: Any) -> str:
        """A button label: a macro of templates/labels.j2, as plain text."""
        if not all(isinstance(value, _VALUE_TYPES) for value in variables.values()):
            return self._label(name, reader, variables)
        key = (name, reader, *sorted(variables.items()))
        label = self._label_cache.get(key)
        if label is None:
            if len(self._label_cache) >= _LABEL_CACHE_SIZE:
                self._label_cache.clear()
            label = self._label_cache[key] = self._label(name, reader, variables)
        return label

    def _label(self, name: str, reader: Reader, variables: dict[str, Any]) -> str:
        macro = getattr(self._labels(reader), name)
        rendered: Markup = macro(**variables)
        return rendered.striptags().strip()

    def _labels(self, reader: Reader) -> Any:
        module = self._label_modules.get(reader)
        if module is None:
            template = self.envs[reader.locale].get_template("labels.j2")
            module = self._label_modules[reader] = template.make_module({"reader": reader})
        return module

    def template_names(self) -> list[str]:
        """The shipped templates, without .j2 (a seller's folder overrides these names)."""
        return sorted(
            str(path.relative_to(self.root).with_suffix("")) for path in self.root.rglob("*.j2")
        )
