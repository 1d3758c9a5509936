"""Chat states: the stored strings stay as they were, and a router that leaves a state unread
fails at start-up (handlers/workflow/awaiting.py)."""

from __future__ import annotations

import pytest

import handlers
from bot.engine.router import Router
from handlers.buyer import returns
from handlers.workflow.awaiting import Awaiting, UnreadStateError, check_read


def test_the_stored_values_are_the_ones_chats_already_wait_in() -> None:
    assert {state.value for state in Awaiting} == {
        "case",
        "case.question",
        "case.claimed",
        "case.photos",
        "case.tracking",
        "case.decline_reason",
        "case.cancel_why",
        "case.rating_comment",
        "order_number",
        "claim.check",
        "seller.amount",
        "seller.answer",
        "seller.deduction",
        "seller.deduction_reason",
        "seller.refund_failed",
        "seller.tracking",
        "seller.rating_answer",
        "seller.ozon_amount",
        "seller.ozon_comment",
        "support_desk",
    }


def test_every_state_has_a_reader_in_the_bot_s_router() -> None:
    router = handlers.build_router()
    assert all(router.reads(state) for state in Awaiting)


def test_a_router_missing_a_reader_fails_at_start_up() -> None:
    # Every conversation but the buyer's returns: a chat waiting for a tracking number (the
    # state is in the enum, and rows stored earlier hold it) would have nothing to read it.
    broken = Router()
    for part in handlers.routers():
        if part is not returns.router:
            broken.include(part)
    with pytest.raises(UnreadStateError, match=r"chat state\(s\) case\.tracking$"):
        check_read(broken)


def test_a_state_read_by_an_interceptor_counts_once_declared() -> None:
    router = Router()
    assert not router.reads(Awaiting.SUPPORT_DESK)
    router.intercepts(Awaiting.SUPPORT_DESK)
    assert router.reads(Awaiting.SUPPORT_DESK)
    # A stored row's plain string finds the same reader.
    assert router.reads("support_desk")
