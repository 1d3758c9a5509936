"""Every word comes from templates: each renders in each locale (the catalogs' completeness is
tests/test_catalogs.py's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import StrictUndefined, UndefinedError

from bot.domain.enums import CaseState, ItemCondition, OrderStatus, Reason, Want
from bot.domain.money import Money
from bot.rendering import LOCALES, Reader, Renderer
from tests.samples import contexts

RENDERER = Renderer()
NAMES = RENDERER.template_names()
MESSAGES = [name for name in NAMES if name != "labels" and not Path(name).name.startswith("_")]
LABELS = [name for name in dir(RENDERER._labels(Reader("en"))) if not name.startswith("_")]


def test_one_template_tree_serves_every_locale() -> None:
    assert "buyer/welcome" in NAMES
    assert not any(name.split("/")[0] in LOCALES for name in NAMES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", MESSAGES)
def test_every_template_renders_in_every_locale(locale: str, name: str) -> None:
    reader = Reader(locale, "Asia/Shanghai")
    for variables in contexts(name):
        text = RENDERER.render(name, reader, **variables)
        assert text.strip(), f"{locale}/{name} rendered nothing"
        assert "<A&B>" not in text and "<vinegar>" not in text  # user text arrives escaped
        assert "None" not in text, f"{locale}/{name} shows a missing value: {text}"
        assert "\n\n\n" not in text, f"{locale}/{name} has a run of blank lines"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_and_word_renders_in_every_locale(locale: str) -> None:
    reader = Reader(locale)
    module = RENDERER._labels(reader)
    assert sorted(n for n in dir(module) if not n.startswith("_")) == sorted(LABELS)
    words = {
        "reason_name": [{"reason": r} for r in Reason],
        "want_name": [{"want": w} for w in Want],
        "condition_name": [{"condition": c} for c in ItemCondition],
        "status_name": [{"status": s} for s in OrderStatus],
        "state_name": [{"state": s} for s in CaseState],
    }
    for name, calls in words.items():
        for kwargs in calls:
            assert RENDERER.label(name, reader, **kwargs)
    for reason in Reason:
        label = RENDERER.label("reason", reader, reason=reason)
        assert 0 < len(label) <= 40, label  # fits a Telegram button


def test_money_and_time_follow_the_readers_locale_and_zone() -> None:
    from tests.samples import NOW

    due = {"due": NOW, "case": contexts()[0]["case"], "order": contexts()[0]["order"]}
    moscow = RENDERER.render("buyer/question_sent", Reader("ru", "Europe/Moscow"), **due)
    shanghai = RENDERER.render("buyer/question_sent", Reader("zh", "Asia/Shanghai"), **due)
    berlin = RENDERER.render("buyer/question_sent", Reader("en", "Europe/Berlin"), **due)
    assert "09:00" in moscow and "14:00" in shanghai and "07:00" in berlin
    amount = RENDERER.render(
        "common/amount_error", Reader("ru"), code="over_limit", limit=Money.of("1350.5", "RUB")
    )
    assert "1\xa0350,50\xa0₽" in amount


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        RENDERER.render("buyer/order_not_found", Reader("en"))
    assert all(env.undefined is StrictUndefined for env in RENDERER.envs.values())
