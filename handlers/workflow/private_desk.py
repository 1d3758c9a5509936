"""The desk in a support member's private chat, for a shop without a support group.

With no `[support] chat_id` there are no topics to tell one case from another, so the member
picks the case they work on, and the chat's state row remembers it (`Awaiting.SUPPORT_DESK`,
with the case): what they type goes to that case's buyer (an interceptor of
handlers/support/agents.py reads it), and the topic commands act on it, until they
pick another or the case leaves support. A member who works in a support group never has this
state: there the topic a message is in names the case (docs/support-desk.md)."""

from __future__ import annotations

from bot.domain.enums import CaseState
from bot.engine.context import Context, Keyboard, button, column
from bot.services import cases
from bot.storage.models import Case
from handlers.payloads import OpenCases, WorkOn
from handlers.workflow.awaiting import Awaiting


def applies(ctx: Context) -> bool:
    """A support member (by the update's sender), in their private chat, with no group."""
    return (
        ctx.shop.support.chat_id is None
        and ctx.event.is_private
        and not ctx.event.system
        and ctx.actor.is_support
    )


def on_a_case(ctx: Context) -> bool:
    return applies(ctx) and ctx.conversation.awaiting == Awaiting.SUPPORT_DESK


async def current_case(ctx: Context) -> Case | None:
    """The case the member works on from this chat, locked; None when they picked none."""
    case_id = ctx.conversation.case_id if on_a_case(ctx) else None
    return await cases.lock_case(ctx.tx, case_id) if case_id else None


def work_on(ctx: Context, case: Case) -> None:
    """Make `case` the member's current one, and say so."""
    ctx.expect(Awaiting.SUPPORT_DESK, case_id=case.id)
    ctx.reply("support/on_case", case=case, buttons=column(button("switch_case", OpenCases())))


def leave(ctx: Context, case: Case) -> None:
    """The case left support (or the member's hands): the member is on no case any more."""
    if ctx.conversation.awaiting == Awaiting.SUPPORT_DESK and ctx.conversation.case_id == case.id:
        ctx.expect(None)
        ctx.reply("support/left_case", case=case, buttons=column(button("open_cases", OpenCases())))


def after(ctx: Context, case: Case) -> None:
    """After a command on the current case: if it is no longer support's, the member leaves it."""
    if on_a_case(ctx) and case.state is not CaseState.ESCALATED:
        leave(ctx, case)


def pick_buttons(escalated: list[Case]) -> Keyboard:
    """A button per case, to work on it from the private chat."""
    return column(*(button("work_on", WorkOn(case_id=c.id), case=c) for c in escalated))
