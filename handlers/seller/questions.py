"""The buyer only wanted an explanation: a decider answers in their own words."""

from __future__ import annotations

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases, promises
from handlers.payloads import AnswerQuestion
from handlers.workflow import aftersales
from handlers.workflow.access import decider_case, decider_name
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_ANSWER = 3000


@router.button(AnswerQuestion)
async def start_answer(ctx: Context, data: AnswerQuestion) -> None:
    case = await decider_case(ctx, data.case_id)
    if case.state is not CaseState.AWAITING_SELLER or case.question is None:
        ctx.answer("seller/already_answered", case=case)
        return
    ctx.expect(Awaiting.SELLER_ANSWER, case_id=case.id)
    ctx.reply("seller/ask_answer", case=case)


@router.text(Awaiting.SELLER_ANSWER)
async def answer(ctx: Context) -> None:
    case = await decider_case(ctx, ctx.conversation.case_id or 0)
    if case.state is not CaseState.AWAITING_SELLER or case.question is None:
        ctx.expect(None)
        ctx.reply("seller/already_answered", case=case)
        return
    text = (ctx.event.text or "").strip()
    if len(text) > MAX_ANSWER:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_ANSWER)
        return
    await promises.keep(ctx.tx, case.id, ctx.now, PromiseKind.FIRST_REPLY)
    cases.move(case, CaseState.RESOLVED, ctx.now)
    aftersales.resolved(ctx, case)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "answered",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        answer=text,
    )
    ctx.expect(None)
    ctx.to_buyer(
        case.buyer,
        "buyer/answer",
        case=case,
        answer=text,
        seller=ctx.seller(case.seller_id),
        by=decider_name(ctx),
        case_id=case.id,
    )
    ctx.reply("seller/answer_sent", case=case)
