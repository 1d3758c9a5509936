"""Checks a seller's RETURNDESK_TEMPLATES folder at start (docs/translations.md), so that a
mistake in it stops the bot with the names to fix instead of failing the first message that
needs them: a template that overrides nothing (a misspelt name), one that does not compile, an
include or import of a template that is not there, a labels.j2 without some of the shipped
button labels, and a message whose English text no template has (any more)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2 import Environment, TemplateNotFound, TemplateSyntaxError, meta, nodes

from bot.rendering.renderer import CATALOG, DEFAULT_LOCALE, Renderer

SHOWN = 10  # names listed in one problem, at most


def override_problems(renderer: Renderer) -> list[str]:
    """What is wrong with the renderer's overrides folder, one line each (none: all is well)."""
    folder = renderer.overrides
    if folder is None:
        return []
    if not folder.is_dir():
        return [f"RETURNDESK_TEMPLATES ({folder}) is not a folder"]
    return [
        f"RETURNDESK_TEMPLATES: {problem}"
        for problem in (*_template_problems(renderer, folder), *_message_problems(renderer, folder))
    ]


def _template_problems(renderer: Renderer, folder: Path) -> list[str]:
    shipped = set(renderer.template_names())
    found: dict[Path, tuple[str, str, str]] = {}  # file: (locale, name, source)
    for path in sorted(folder.rglob("*.j2")):
        parts = path.relative_to(folder).parts
        locale = parts[0] if len(parts) > 1 and parts[0] in renderer.envs else DEFAULT_LOCALE
        name = "/".join(parts[1:] if parts[0] in renderer.envs else parts).removesuffix(".j2")
        found[path] = (locale, name, path.read_text(encoding="utf-8"))
    problems: list[str] = []
    referenced: set[str] = set()
    missing: dict[str, set[str]] = {}
    for path, (locale, name, source) in found.items():
        env = renderer.envs[locale]
        try:
            tree = env.parse(source)
        except TemplateSyntaxError as error:
            problems.append(f"{_shown(path, folder)}, line {error.lineno}: {error.message}")
            continue
        for other in meta.find_referenced_templates(tree):
            if other is None:
                continue  # a name computed at render time: nothing to check here
            referenced.add(other.removesuffix(".j2"))
            if not _exists(env, other):
                missing.setdefault(other, set()).add(_shown(path, folder))
        if name == "labels":
            absent = _macros(renderer.root / "labels.j2", env) - _macros_of(tree)
            if absent:
                problems.append(
                    f"{_shown(path, folder)} lacks labels the bot uses: {_listed(sorted(absent))}"
                )
    for other, users in sorted(missing.items()):
        problems.append(f"template {other} is missing (used by {', '.join(sorted(users))})")
    for path, (_, name, _) in found.items():
        if name not in shipped and name not in referenced:
            problems.append(
                f"{_shown(path, folder)} overrides no template: there is no {name}.j2 "
                "in the shipped templates"
            )
    return problems


def _message_problems(renderer: Renderer, folder: Path) -> list[str]:
    known = _message_ids(renderer.root / "locales" / "messages.pot")
    problems = []
    for path in sorted(folder.glob(f"locales/*/{CATALOG}")):
        with path.open("rb") as file:
            entries = [entry for entry in read_po(file) if entry.id]
        unknown = sorted({_id(entry.id) for entry in entries} - known)
        if unknown:
            problems.append(
                f"{_shown(path, folder)} has messages no template uses (their English text "
                f"changed or never was): {_listed([repr(text) for text in unknown])}"
            )
    return problems


def _message_ids(pot: Path) -> set[str]:
    with pot.open("rb") as file:
        return {_id(entry.id) for entry in read_po(file) if entry.id}


def _id(message_id: str | Sequence[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _exists(env: Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except TemplateNotFound:
        return False
    except TemplateSyntaxError:
        return True  # reported on its own
    return True


def _macros(path: Path, env: Environment) -> set[str]:
    return _macros_of(env.parse(path.read_text(encoding="utf-8")))


def _macros_of(tree: nodes.Template) -> set[str]:
    return {macro.name for macro in tree.find_all(nodes.Macro)}


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _shown(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))
