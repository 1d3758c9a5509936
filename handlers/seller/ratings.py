"""A decider answers a buyer's low rating (docs/aftersales.md): the answer goes to the buyer and
keeps the follow-up promise the rating opened (handlers/buyer/survey.py)."""

from __future__ import annotations

from bot.domain.enums import PromiseKind, Role
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases, promises
from handlers.payloads import AnswerRating
from handlers.workflow.access import decider_case, decider_name
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_ANSWER = 3000


@router.button(AnswerRating)
async def start_answer(ctx: Context, data: AnswerRating) -> None:
    case = await decider_case(ctx, data.case_id)
    if not await promises.open_promises(ctx.tx, case.id, [PromiseKind.FOLLOW_UP]):
        ctx.answer("seller/already_answered", case=case)
        return
    ctx.expect(Awaiting.SELLER_RATING_ANSWER, case_id=case.id)
    ctx.reply("seller/ask_rating_answer", case=case)


@router.text(Awaiting.SELLER_RATING_ANSWER)
async def answer(ctx: Context) -> None:
    case = await decider_case(ctx, ctx.conversation.case_id or 0)
    text = (ctx.event.text or "").strip()
    if len(text) > MAX_ANSWER:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_ANSWER)
        return
    ctx.expect(None)
    if not await promises.keep(ctx.tx, case.id, ctx.now, PromiseKind.FOLLOW_UP):
        ctx.reply("seller/already_answered", case=case)
        return
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "rating_answered",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        answer=text,
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/rating_answer",
        case=case,
        answer=text,
        seller=ctx.seller(case.seller_id),
        by=decider_name(ctx),
        case_id=case.id,
    )
    ctx.reply("seller/rating_answer_sent", case=case)
