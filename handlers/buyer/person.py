"""A buyer may ask for a person at any point (a button, or words like "operator", "человек",
"人工"); while a person handles the case, what the buyer writes goes to them, not to the bot."""

from __future__ import annotations

import re

from bot.domain.enums import CaseState, EscalationReason, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases
from bot.storage.models import Case
from handlers.buyer.orders import ask_order
from handlers.workflow import desk

router = Router()
# What buyers type when they want a human, in the languages the bot speaks.
ASKING_FOR_A_PERSON = {
    "operator",
    "human",
    "person",
    "agent",
    "support",
    "a person",
    "real person",
    "talk to a person",
    "talk to a human",
    "оператор",
    "человек",
    "живой человек",
    "поддержка",
    "позовите человека",
    "人工",
    "人工客服",
    "客服",
    "转人工",
    "真人",
}
MAX_RELAY = 3000


def _asks_for_a_person(text: str | None) -> bool:
    if not text:
        return False
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    return " ".join(words) in ASKING_FOR_A_PERSON


async def _current_case(ctx: Context) -> Case | None:
    """The case this chat is about, if it is the sender's and still open."""
    case_id = ctx.conversation.case_id
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    if case is None or case.buyer_id != ctx.event.author.id or not case.state.is_open:
        return None
    return case


@router.intercept
async def relay_to_the_desk(ctx: Context) -> bool:
    case = await _current_case(ctx)
    if case is None or case.state is not CaseState.ESCALATED:
        return False
    text = (ctx.event.text or ctx.event.caption or "").strip()
    if len(text) > MAX_RELAY:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_RELAY)
        return True
    await cases.record(
        ctx.tx, case, ctx.now, "buyer_message", role=Role.BUYER, actor_id=ctx.event.author.id
    )
    desk.to_desk(
        ctx,
        case,
        "support/buyer_message",
        case=case,
        text=text,
        what=ctx.event.unsupported,
        photos=[p.file_id for p in ctx.event.photos],
    )
    return True


@router.intercept
async def asks_for_a_person(ctx: Context) -> bool:
    if not _asks_for_a_person(ctx.event.text):
        return False
    await person(ctx)
    return True


async def person(ctx: Context) -> None:
    """Escalate the case this chat is about, or ask which order first."""
    case = await _current_case(ctx)
    if case is not None:
        if case.state is CaseState.ESCALATED:
            ctx.reply("buyer/already_with_a_person", case=case)
            return
        await desk.escalate(ctx, case, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        return
    await ask_order(ctx, flow="person")
