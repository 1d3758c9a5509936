"""The command line, run as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config.shop import DEFAULT_POLICY


def returndesk(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        check=False,
    )


def test_demo_plays_both_cases_and_exits_zero(tmp_path: Path) -> None:
    result = returndesk("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Each party reads its own language: the Russian buyer, the Chinese deciders, the English buyer.
    assert "Здравствуйте, Иван!" in out
    assert "按其他金额退款" in out
    assert "Your return is accepted" in out
    assert "Refund ledger" in out and "executed" in out and "approved" in out
    assert "Open promises" in out and "refund_execution" in out
    assert list(tmp_path.iterdir()) == []  # the demo leaves nothing behind


def test_policy_check_accepts_the_default_and_explains_errors(tmp_path: Path) -> None:
    ok = returndesk("policy", "check", str(DEFAULT_POLICY), cwd=tmp_path)
    assert ok.returncode == 0 and "the policy is valid" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_POLICY.read_text().replace('"4h"', '"4 hours"', 1), encoding="utf-8")
    result = returndesk("policy", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if '"4 hours"' in text)
    assert (
        f"bad.toml:{line}: reply_targets.first_reply: '4 hours' is not a deadline" in result.stderr
    )


def test_orders_import_reports_bad_rows_and_keeps_good_ones(tmp_path: Path) -> None:
    from tests.test_import import good

    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps({"orders": [good("Z-1", seller="acme"), good("Z-2", currency="rub")]})
    )
    env = {"RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    shop = str(Path(__file__).parent / "data" / "shop.toml")
    first = returndesk("orders", "import", str(path), "--config", shop, cwd=tmp_path, env=env)
    assert first.returncode == 1
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in first.stdout
    assert "order 2: currency:" in first.stderr
    again = returndesk("orders", "import", str(path), "--config", shop, cwd=tmp_path, env=env)
    assert "0 created, 0 updated, 1 unchanged, 1 skipped" in again.stdout


def test_a_broken_shop_file_is_explained_not_a_traceback(tmp_path: Path) -> None:
    shop = tmp_path / "shop.toml"
    shop.write_text(
        '[[sellers]]\nid = "Bad Id"\nname = "X"\ntimezone = "Mars/Olympus"\n', encoding="utf-8"
    )
    env = {"RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = returndesk("db", "upgrade", "--config", str(shop), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "shop.toml:2: sellers.0.id" in result.stderr
    assert (
        "shop.toml:4: sellers.0.timezone: 'Mars/Olympus' is not an IANA time zone" in result.stderr
    )
    assert "sellers.0.deciders: Field required" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["stats"], ["sweep"], ["db", "upgrade"], ["orders", "import", "orders.json"]],
)
def test_a_database_that_does_not_answer_is_said_in_a_line(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "orders.json").write_text('{"orders": []}')
    unreachable = "postgresql+asyncpg://shop:hunter2@127.0.0.1:1/returns"  # nothing on port 1
    result = returndesk(*command, cwd=tmp_path, env={"RETURNDESK_DATABASE_URL": unreachable})
    assert result.returncode == 2
    assert "cannot reach the database (postgresql+asyncpg://shop:***@127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_chat_as_the_support_member_of_a_shop_without_a_group(tmp_path: Path) -> None:
    """The demo shop has no support group: Sam works Anna's case from his own chat."""
    lines = ["/as anna", "/start", "1", "1", "1", "operator", "It broke", "/as sam", "/queue", "1"]
    lines += ["Hello Anna, we are on it", "/refund 700", "/quit"]
    result = returndesk("chat", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You are now working on Case 1 · #OZ-1002" in out
    relayed = out.index("Lucky Dragon Electronics:")  # to Anna, in the seller's name
    assert "Hello Anna, we are on it" in out[relayed : relayed + 300]
    assert "Agreed: a refund of RUB700.00" in out
    assert "didn't quite get that" not in out


async def returndesk_async(
    *args: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The command, run while this test's event loop goes on serving the fake Bot API."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


async def test_inbox_lists_retries_and_drops_updates_set_aside(tmp_path: Path) -> None:
    from bot.app import build_app
    from bot.runtime.telegram.dead_letters import DeadLetters, Poisoned
    from bot.storage.models import DeadLetter, OutboxMessage, TranscriptEntry
    from bot.testing.botapi import FakeBotAPI
    from tests.desk import TEST_SHOP

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    async with FakeBotAPI() as server:
        anna = server.user(101, "Anna", "en")
        app = await build_app(database_url=url, config=TEST_SHOP)
        letters = DeadLetters(app.db, app.clock, app.renderer, app.shop)
        for update_id, text in ((7, "/start"), (8, "/help")):
            update = server.text_update(anna, text) | {"update_id": update_id}
            poisoned = Poisoned(
                f"tg:{server.bot_id}:{update_id}", server.bot_id, update_id, 101, update
            )
            await letters.set_aside(poisoned, "Traceback ...\nRuntimeError: boom", 5)
        await app.close()
        env = {
            "RETURNDESK_DATABASE_URL": url,
            "RETURNDESK_CONFIG": str(TEST_SHOP),
            "RETURNDESK_TELEGRAM_TOKEN": server.token,
            "RETURNDESK_TELEGRAM_API_URL": server.base_url,
        }

        listed = await returndesk_async("inbox", cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        assert "#1 " in listed.stdout and "chat 101" in listed.stdout and "5 tries" in listed.stdout
        assert "message: '/start'" in listed.stdout and "RuntimeError: boom" in listed.stdout
        assert "#2 " in listed.stdout and "message: '/help'" in listed.stdout

        retried = await returndesk_async("inbox", "retry", "1", cwd=tmp_path, env=env)
        assert retried.returncode == 0, retried.stderr
        assert "Applied update #1." in retried.stdout
        assert server.token not in retried.stdout + retried.stderr
        dropped = await returndesk_async("inbox", "drop", "2", cwd=tmp_path, env=env)
        assert (dropped.returncode, dropped.stdout.strip()) == (0, "Dropped update #2.")
        again = await returndesk_async("inbox", "drop", "2", cwd=tmp_path, env=env)
        assert again.returncode == 1 and "#2 is not one of the updates set aside" in again.stderr
        empty = await returndesk_async("inbox", cwd=tmp_path, env=env)
        assert empty.stdout.strip() == "No update is set aside."

    app = await build_app(database_url=url, config=TEST_SHOP)
    try:
        async with app.db.session() as session:
            assert (await session.scalars(select(DeadLetter))).all() == []
            claimed = await session.scalars(
                select(TranscriptEntry.update_key).where(TranscriptEntry.direction == "in")
            )
            assert list(claimed) == [f"tg:{server.bot_id}:7"]  # applied once, as sent
            owed = await session.scalars(select(OutboxMessage.template).order_by(OutboxMessage.id))
            # The two notices from when they were set aside, then /start's menu.
            assert list(owed) == ["common/set_aside", "common/set_aside", "buyer/welcome"]
    finally:
        await app.close()
