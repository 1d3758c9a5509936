"""Ozon's return reasons as ReturnDesk's, where Ozon's words say it plainly, and the guess of
which action pays back in full (docs/ozon.md)."""

from __future__ import annotations

import pytest

from bot.domain.enums import Reason
from bot.services.ozon_returns import COMPENSATE_ID, pays_in_full, reason_of


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"reason": "Брак", "is_defect": False}, Reason.DEFECT),
        ({"reason": "Что-то ещё", "is_defect": True}, Reason.DEFECT),
        ({"reason": "Не тот товар"}, Reason.WRONG_ITEM),
        ({"reason": "Товар не соответствует описанию"}, Reason.NOT_AS_DESCRIBED),
        ({"reason": "Товар повреждён при доставке"}, Reason.DAMAGED_IN_TRANSIT),
        ({"reason": "Некомплект"}, Reason.MISSING_ITEMS),
        ({"reason": "Не подошёл размер"}, Reason.CHANGED_MIND),
        ({"reason": "Просто так"}, Reason.OTHER),
        ({}, Reason.OTHER),
    ],
)
def test_ozons_reason_maps_where_it_is_clear_else_other(
    detail: dict[str, object], reason: Reason
) -> None:
    assert reason_of(detail) is reason


def test_only_an_action_named_as_a_refund_pays_in_full() -> None:
    assert pays_in_full(30, "Вернуть деньги")
    assert pays_in_full(31, "Refund")
    assert not pays_in_full(10, "Одобрить")
    assert not pays_in_full(COMPENSATE_ID, "Вернуть деньги")  # a partial refund, asked for
    assert not pays_in_full(-1, "Refund refused")
