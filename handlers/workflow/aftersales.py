"""What follows a resolution (docs/aftersales.md): the satisfaction survey is scheduled by the
seller's policy wherever a case is resolved, and "still not right" within the policy's window
reopens the same case for a second round."""

from __future__ import annotations

from bot.domain.enums import CaseState
from bot.engine.context import Context, Keyboard, button, column
from bot.services import surveys
from bot.storage.models import Case
from handlers.payloads import Arrived, NotArrived, SecondRound, StillNotRight


def resolved(ctx: Context, case: Case) -> None:
    """Call after `cases.move` may have resolved the case: a resolved case's buyer is asked,
    once, `[aftersales] survey_after` later, how it went."""
    policy = ctx.seller(case.seller_id).policy
    surveys.schedule(case, ctx.now, policy.aftersales.survey_after)


def reopenable(ctx: Context, case: Case) -> bool:
    """A resolved case within the policy's `[aftersales] follow_up_window` of its resolution:
    "still not right" reopens it rather than starting another (docs/aftersales.md)."""
    window = ctx.seller(case.seller_id).policy.aftersales.follow_up_window
    return (
        case.state is CaseState.RESOLVED
        and case.closed_at is not None
        and ctx.now <= case.closed_at + window
    )


def ask_second_round(ctx: Context, case: Case) -> None:
    """What may help now: the choices the seller's policy allows for a second round."""
    choices = ctx.seller(case.seller_id).policy.aftersales.second_round
    ctx.expect(None)
    ctx.reply(
        "buyer/second_round",
        case=case,
        order=case.order,
        case_id=case.id,
        buttons=column(
            *(button(f"second_{c}", SecondRound(case_id=case.id, choice=c)) for c in choices)
        ),
    )


def on_its_way(case: Case) -> Keyboard:
    """Under the buyer's messages about a reshipment or replacement while the case waits for it
    (handlers/buyer/delivery.py)."""
    if case.state is not CaseState.AWAITING_DELIVERY:
        return ()
    return column(
        button("arrived", Arrived(case_id=case.id)),
        button("not_arrived", NotArrived(case_id=case.id)),
    )


def still_not_right(case: Case) -> Keyboard:
    """The button under a resolution's message."""
    return column(button("still_not_right", StillNotRight(case_id=case.id)))
