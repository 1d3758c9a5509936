"""The container and service files run real `returndesk` commands with real settings.

CI has no container daemon, so nothing here builds or starts an image: .ci/run lints the
Dockerfile with hadolint, and these tests read the Dockerfile, compose.yaml and the systemd
units, and check every command they run against the CLI itself (its options and their values,
as `returndesk` would parse them) and every RETURNDESK_ variable they set against the settings
classes (docs/operations.md#containers)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime.telegram.roles import Role
from tests.test_settings import setting_names

ROOT = Path(__file__).parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
BINARY = "/opt/returndesk/bin/returndesk"  # where the units expect the package's venv


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined and comments left out."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def exec_form(dockerfile: Path, keyword: str) -> list[str]:
    [value] = [rest for found, rest in instructions(dockerfile) if found == keyword]
    words = json.loads(value)  # the exec form: no shell between the signal and the bot
    assert isinstance(words, list)
    return words


def env_names(dockerfile: Path) -> set[str]:
    names = set()
    for keyword, rest in instructions(dockerfile):
        if keyword == "ENV":
            names |= {word.split("=", 1)[0] for word in shlex.split(rest)}
    return names


def check_command(argv: list[str]) -> None:
    """Parse `argv` as `returndesk` would, options and values, without running it; then its
    --help, through Typer's runner. A command, option or value the CLI lacks fails here."""
    command: Any = typer.main.get_command(app)
    context = command.make_context("returndesk", list(argv))
    # Typer's groups (its own copy of Click's) resolve subcommands; a command does not.
    while hasattr(command, "resolve_command"):
        args = [*context._protected_args, *context.args]
        name, found, rest = command.resolve_command(context, args)
        assert found is not None and name is not None, argv
        command = found
        context = command.make_context(name, list(rest), parent=context)
    assert not context.args, f"{argv}: left over {context.args}"
    result = CliRunner().invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, result.output


def refused(argv: list[str]) -> bool:
    try:
        check_command(argv)
    except AssertionError:
        return True
    except Exception as error:
        return any(kind.__name__ == "UsageError" for kind in type(error).__mro__)
    return False


def compose_services() -> dict[str, Any]:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert isinstance(services, dict)
    return services


def bot_services() -> dict[str, Any]:
    """The services that run the image this repository builds."""
    return {name: service for name, service in compose_services().items() if "build" in service}


def unit_lines(unit: Path, key: str) -> list[str]:
    prefix = f"{key}="
    return [
        line.removeprefix(prefix).strip()
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith(prefix)
    ]


def test_the_image_runs_returndesk_and_its_default_command_is_real() -> None:
    assert exec_form(DOCKERFILE, "ENTRYPOINT") == ["returndesk"]
    check_command(exec_form(DOCKERFILE, "CMD"))


def test_the_image_is_small_runs_without_privileges_and_its_base_is_pinned() -> None:
    found = instructions(DOCKERFILE)
    [(_, base)] = [(k, rest) for k, rest in found if k == "ARG" and rest.startswith("PYTHON")]
    image = base.split("=", 1)[1]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image), image
    assert [rest for k, rest in found if k == "FROM"] == [
        "${PYTHON_IMAGE} AS build",
        "${PYTHON_IMAGE}",
    ]
    [user] = [rest for k, rest in found if k == "USER"]
    assert user.split(":")[0] not in {"0", "root"}


def test_the_image_sets_only_real_settings() -> None:
    names = {name for name in env_names(DOCKERFILE) if name.startswith("RETURNDESK_")}
    assert names, "the image sets where photos go"
    assert names <= setting_names()


def test_compose_runs_a_migration_then_web_sender_and_sweeper() -> None:
    services = bot_services()
    commands = {name: service["command"] for name, service in services.items()}
    assert commands == {
        "migrate": ["db", "upgrade"],
        "web": ["run", "--role", "web"],
        "sender": ["run", "--role", "sender"],
        "sweeper": ["run", "--role", "sweeper"],
    }
    for name in ("web", "sender", "sweeper"):
        needs = services[name]["depends_on"]
        assert needs == {"migrate": {"condition": "service_completed_successfully"}}, name
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", ["migrate", "web", "sender", "sweeper"])
def test_every_command_compose_runs_is_a_real_returndesk_command(service: str) -> None:
    check_command(bot_services()[service]["command"])


@pytest.mark.parametrize("service", ["migrate", "web", "sender", "sweeper"])
def test_every_variable_compose_sets_is_a_real_setting(service: str) -> None:
    environment = bot_services()[service]["environment"]
    assert "RETURNDESK_DATABASE_URL" in environment
    assert set(environment) <= setting_names(), set(environment) - setting_names()


def test_the_web_worker_listens_beyond_its_container() -> None:
    environment = bot_services()["web"]["environment"]
    assert environment["RETURNDESK_TELEGRAM_WEBHOOK_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_every_systemd_unit_starts_a_real_command_with_real_settings(unit: Path) -> None:
    [start] = unit_lines(unit, "ExecStart")
    binary, *argv = shlex.split(start)
    assert binary == BINARY
    # A template's instance (%i) is a role where the command takes it from the name.
    instances = [role.value for role in Role] if "%i" in argv else [""]
    for instance in instances:
        check_command([word.replace("%i", instance) for word in argv])
    for setting in unit_lines(unit, "Environment"):
        name = setting.split("=", 1)[0]
        assert name in setting_names(), name


def test_the_checks_refuse_what_returndesk_would_refuse() -> None:
    assert not refused(["run", "--role", "web"])
    for wrong in (["run", "--rol", "web"], ["run", "--role", "webb"], ["db", "upgrad"]):
        assert refused(wrong), wrong
    assert "RETURNDESK_TELEGRAM_WEBHOOK_HOSTNAME" not in setting_names()
