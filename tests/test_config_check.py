"""`returndesk --version` and `returndesk config check`: the checks `run` makes at start, alone,
with their exit codes and lines (docs/operations.md#start-up-checks)."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

from tests.desk import TEST_SHOP
from tests.test_cli import returndesk

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"


def good_env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "RETURNDESK_TELEGRAM_TOKEN": TOKEN,
        "RETURNDESK_TELEGRAM_MEDIA_DIR": str(tmp_path / "media"),
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'never.db'}",
        **more,
    }


def test_version() -> None:
    result = returndesk("--version", cwd=Path.cwd())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"returndesk {version('returndesk')}"


def test_a_good_configuration_passes_and_nothing_is_started(tmp_path: Path) -> None:
    result = returndesk(
        "config", "check", "--config", str(TEST_SHOP), cwd=tmp_path, env=good_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "The configuration is usable" in result.stdout
    assert not (tmp_path / "never.db").exists()  # no database was opened


def test_every_problem_is_listed_with_exit_code_2(tmp_path: Path) -> None:
    shop = tmp_path / "shop.toml"
    shop.write_text('[[sellers]]\nid = "Bad Id"\nname = "X"\n', encoding="utf-8")
    env = good_env(
        tmp_path, RETURNDESK_TELEGRAM_TOKEN="not a token", RETURNDESK_HEALTH_OUTBOX_MAX_AGE="-1"
    )
    result = returndesk("config", "check", "--config", str(shop), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "The configuration has problems:" in result.stderr
    assert "RETURNDESK_TELEGRAM_TOKEN is not a bot token" in result.stderr
    assert "RETURNDESK_HEALTH_OUTBOX_MAX_AGE: Input should be greater than 0" in result.stderr
    assert "shop.toml:2: sellers.0.id" in result.stderr
    assert "not a token" not in result.stderr  # a setting's value is never shown


def broken_overrides(folder: Path) -> Path:
    """A seller's folder with a misspelt template, one that includes a template that is not
    there, a labels.j2 that lost a label, and a message whose English text no template has."""
    (folder / "buyer").mkdir(parents=True)
    (folder / "buyer" / "welcom.j2").write_text("Hi!\n", encoding="utf-8")
    (folder / "buyer" / "agreed.j2").write_text(
        '{% include "buyer/_terms.j2" %}\n', encoding="utf-8"
    )
    labels = (TEMPLATES / "labels.j2").read_text(encoding="utf-8")
    start = labels.index("{% macro menu_problem()")
    end = labels.index("{% endmacro %}", start) + len("{% endmacro %}")
    (folder / "ru").mkdir()
    (folder / "ru" / "labels.j2").write_text(labels[:start] + labels[end:], encoding="utf-8")
    catalog = folder / "locales" / "ru" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    (catalog / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "What else can I do for you?"\nmsgstr "Чем ещё могу помочь?"\n\n'
        'msgid "A sentence no template has"\nmsgstr "Нет такой"\n',
        encoding="utf-8",
    )
    return folder


def test_an_override_missing_templates_labels_or_messages_is_refused_by_name(
    tmp_path: Path,
) -> None:
    folder = broken_overrides(tmp_path / "my-texts")
    env = good_env(tmp_path, RETURNDESK_TEMPLATES=str(folder))
    for command in (["config", "check"], ["run"]):
        result = returndesk(*command, "--config", str(TEST_SHOP), cwd=tmp_path, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        said = result.stderr
        assert "Traceback" not in said
        assert "buyer/welcom.j2 overrides no template" in said
        assert "template buyer/_terms.j2 is missing (used by buyer/agreed.j2)" in said
        assert "ru/labels.j2 lacks labels the bot uses: menu_problem" in said
        assert "has messages no template uses" in said and "'A sentence no template has'" in said
        assert "What else can I do" not in said
    assert not (tmp_path / "never.db").exists()  # `run` stopped before the database


def test_an_override_that_only_changes_things_passes(tmp_path: Path) -> None:
    folder = tmp_path / "my-texts"
    (folder / "ru" / "buyer").mkdir(parents=True)
    shutil.copy(TEMPLATES / "buyer" / "agreed.j2", folder / "ru" / "buyer" / "agreed.j2")
    shutil.copy(TEMPLATES / "labels.j2", folder / "labels.j2")
    env = good_env(tmp_path, RETURNDESK_TEMPLATES=str(folder))
    result = returndesk("config", "check", "--config", str(TEST_SHOP), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"with {folder}" in result.stdout
