"""Policy is data and offers are pure functions of it (docs/design.md#policy-is-data)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config.shop import DEFAULT_POLICY, ConfigError, load_policy, load_shop
from bot.domain.durations import format_duration, parse_duration
from bot.domain.enums import Reason, Remedy, Want
from bot.domain.money import Money
from bot.domain.offers import CaseFacts, NoStandardOffer, StandardOffer, standard_offer
from bot.domain.policy import ReturnHistory
from tests.desk import DATA, TEST_SHOP
from tests.test_cli import returndesk

POLICY = load_policy(DATA / "policy.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w", timedelta(days=7)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_durations_in_short_form(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2 days", "-1h", "0s", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(text)


def test_the_shipped_default_policy_and_demo_shop_are_valid() -> None:
    load_policy(DEFAULT_POLICY)
    shop = load_shop()
    assert shop.sellers[0].policy.return_window == timedelta(days=14)
    assert load_shop(TEST_SHOP).seller("acme").policy == POLICY


def check(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_policy(path)
    return [str(p).removeprefix(f"{path}:") for p in error.value.problems]


def test_policy_errors_name_their_line(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace('return_window = "14d"', 'return_window = "two weeks"')
    text = text.replace(
        'keep = { remedy = "percent", percent = 30 }',
        'keep = { remedy = "percent", percent = 130 }',
    )
    text = text.replace("[reasons.late_delivery]", "[reasons.late_delivry]")
    lines = text.splitlines()
    problems = check(tmp_path, text)

    def line_of(fragment: str) -> int:
        return next(n for n, line in enumerate(lines, start=1) if fragment in line)

    expected = f"{line_of('return_window')}: return_window: 'two weeks' is not a duration"
    assert any(p.startswith(expected) for p in problems)
    assert any(
        p.startswith(f"{line_of('percent = 130')}: reasons.defect.keep.percent:") for p in problems
    )
    assert any(p.startswith(f"{line_of('late_delivry')}: reasons.late_delivry") for p in problems)
    assert len(problems) == 3


def test_broken_toml_points_at_the_line(tmp_path: Path) -> None:
    [problem] = check(tmp_path, 'return_window = "14d"\nauto_approve = { RUB = 500\n')
    assert problem.startswith("2: not valid TOML")


def test_a_policy_missing_a_reply_target_says_which(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace('support_reply = "4h"\n', "")
    [problem] = check(tmp_path, text)
    assert "reply_targets lacks support_reply" in problem


def facts(
    reason: Reason,
    want: Want,
    value: str = "2000",
    refundable: str = "2000",
    claimed: str | None = None,
) -> CaseFacts:
    return CaseFacts(
        reason=reason,
        want=want,
        affected_value=Money.of(value, "RUB"),
        refundable=Money.of(refundable, "RUB"),
        claimed=Money.of(claimed, "RUB") if claimed else None,
    )


def test_standard_offers_follow_the_policy() -> None:
    assert standard_offer(POLICY, facts(Reason.DEFECT, Want.KEEP)) == StandardOffer(
        Remedy.PERCENT, Money.of("600", "RUB"), auto_approved=True, return_shipping="seller"
    )
    above = standard_offer(POLICY, facts(Reason.DEFECT, Want.KEEP, value="5000", refundable="5000"))
    assert isinstance(above, StandardOffer) and not above.auto_approved
    reship = standard_offer(POLICY, facts(Reason.MISSING_ITEMS, Want.REPLACE))
    assert isinstance(reship, StandardOffer) and (reship.remedy, reship.amount) == (
        Remedy.RESHIP,
        None,
    )
    late = standard_offer(POLICY, facts(Reason.LATE_DELIVERY, Want.KEEP))
    assert isinstance(late, StandardOffer) and late.amount == Money.of("300", "RUB")
    in_yen = standard_offer(
        POLICY,
        CaseFacts(Reason.LATE_DELIVERY, Want.KEEP, Money.of(900, "JPY"), Money.of(900, "JPY")),
    )
    assert isinstance(in_yen, StandardOffer) and in_yen.needs_amount_from_seller
    claimed = standard_offer(POLICY, facts(Reason.PRICE_ERROR, Want.KEEP, claimed="2500"))
    assert isinstance(claimed, StandardOffer) and claimed.amount == Money.of("2000", "RUB")
    changed_mind = standard_offer(POLICY, facts(Reason.CHANGED_MIND, Want.RETURN))
    assert isinstance(changed_mind, StandardOffer) and changed_mind.return_shipping == "buyer"


def test_no_standard_offer_comes_with_the_alternatives_the_policy_has() -> None:
    assert standard_offer(POLICY, facts(Reason.WRONG_ITEM, Want.KEEP)) == NoStandardOffer(
        "not_in_policy", (Want.REPLACE, Want.RETURN)
    )
    assert standard_offer(
        POLICY, facts(Reason.DEFECT, Want.KEEP, refundable="0")
    ) == NoStandardOffer("nothing_refundable")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@given(
    reason=st.sampled_from(list(Reason)),
    want=st.sampled_from([Want.KEEP, Want.REPLACE, Want.RETURN]),
    value=amounts,
    refundable=amounts,
    claimed=amounts,
)
def test_same_facts_same_offer_never_above_what_is_refundable(
    reason: Reason, want: Want, value: Decimal, refundable: Decimal, claimed: Decimal
) -> None:
    case = CaseFacts(
        reason, want, Money(value, "RUB"), Money(refundable, "RUB"), Money(claimed, "RUB")
    )
    first, second = standard_offer(POLICY, case), standard_offer(POLICY, case)
    assert first == second
    if isinstance(first, StandardOffer) and first.amount is not None:
        assert first.amount <= case.refundable
        assert first.amount.amount > 0
        assert first.auto_approved == (first.amount.amount <= Decimal("1000"))


# -- files that are not TOML text: one line each, never a traceback ---------------------------

NOT_TOML = {
    "binary": (
        bytes(range(256)) * 4,
        ": not UTF-8 text (a TOML file is UTF-8): invalid start byte at byte 128",
    ),
    "utf-16": (
        DEFAULT_POLICY.read_text(encoding="utf-8").encode("utf-16"),
        ": UTF-16 text; a TOML file is UTF-8: save it as UTF-8",
    ),
    "nested": (b"a = " + b"[" * 100_000, ": not valid TOML: nested too deeply"),
    "nul": (b"return_window = \x00", ":1: not valid TOML: Invalid value (at line 1, column 17)"),
}


@pytest.mark.parametrize("kind", NOT_TOML)
def test_a_file_that_is_not_toml_is_one_line_not_a_traceback(tmp_path: Path, kind: str) -> None:
    """As a policy to check, and as the shop file of the commands that load it."""
    data, message = NOT_TOML[kind]
    path = tmp_path / "file.toml"
    path.write_bytes(data)
    result = returndesk("policy", "check", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"{path}{message}"]
    env = {
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "RETURNDESK_TELEGRAM_TOKEN": "123456:" + "A" * 35,
    }
    for command in (["db", "upgrade"], ["run"]):
        result = returndesk(*command, "--config", str(path), cwd=tmp_path, env=env)
        assert result.returncode == 2, command
        assert "Traceback" not in result.stderr
        assert f"{path}{message}" in result.stderr


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("sellers = 5", "sellers: Input should be a valid list"),
        ("sellers = [1]\nsupport = 2", "sellers.0: Input should be a valid dictionary"),
    ],
)
def test_a_shop_file_of_the_wrong_shape_is_explained(tmp_path: Path, text: str, where: str) -> None:
    shop = tmp_path / "shop.toml"
    shop.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_shop(shop)
    assert any(where in str(problem) for problem in error.value.problems), error.value


def test_a_policy_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows Notepad writes one at the start of UTF-8 files."""
    path = tmp_path / "policy.toml"
    path.write_bytes(DEFAULT_POLICY.read_text(encoding="utf-8").encode("utf-8-sig"))
    assert load_policy(path) == load_policy(DEFAULT_POLICY)


def test_return_history_flags_by_number_or_by_amount_refunded() -> None:
    rule = ReturnHistory(cases=3, amount={"RUB": Decimal("5000")})
    assert not rule.flags(2, Money.of("4999.99", "RUB"))
    assert rule.flags(3, Money.of("0", "RUB"))
    assert rule.flags(1, Money.of("5000", "RUB"))
    assert not rule.flags(1, Money.of("9000", "CNY"))  # no limit set for that currency
