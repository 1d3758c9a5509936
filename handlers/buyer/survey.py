"""The satisfaction survey (docs/aftersales.md): the sweeper asks the buyer of a resolved case,
once, to rate it 1-5; a comment may follow. The seller's deciders see both, and a 1 or a 2
opens a follow-up the seller owes (handlers/seller/ratings.py answers it)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.engine.context import Context, button
from bot.engine.errors import Refusal, Stale
from bot.engine.own_events import Survey
from bot.engine.router import Router
from bot.services import cases, surveys
from bot.storage.models import Case
from handlers.payloads import AnswerRating, NoComment, Rate
from handlers.workflow import promising
from handlers.workflow.access import owned_case
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_COMMENT = 1000


@router.button(Survey)
async def ask(ctx: Context, data: Survey) -> None:
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="sweeper.forged")
    case = await cases.lock_case(ctx.tx, data.case_id)
    if case is None or not surveys.asked(case, ctx.now):
        return
    if case.state is not CaseState.RESOLVED:
        return  # reopened or with support since: no survey on a case still in hand
    ctx.to_buyer(
        case.buyer,
        "buyer/survey",
        case=case,
        order=case.order,
        case_id=case.id,
        buttons=[
            [
                button("rate", Rate(case_id=case.id, stars=stars), stars=stars)
                for stars in surveys.STARS
            ],
            [button("skip_survey", Rate(case_id=case.id, stars=0))],
        ],
    )


@router.button(Rate)
async def rate(ctx: Context, data: Rate) -> None:
    case = await owned_case(ctx, data.case_id)
    if data.stars == 0:
        if case.surveyed_at is None or case.rating is not None:
            raise Stale()
        ctx.reply("buyer/survey_thanks", case=case, due=None)
        return
    if not surveys.rate(case, data.stars, ctx.now):
        ctx.answer("buyer/survey_already", case=case)
        return
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "rated",
        role=Role.BUYER,
        actor_id=ctx.event.author.id,
        stars=data.stars,
    )
    due = await _follow_up(ctx, case)
    _to_deciders(ctx, case, due)
    ctx.expect(Awaiting.CASE_RATING_COMMENT, case_id=case.id)
    ctx.reply(
        "buyer/survey_comment",
        case=case,
        due=due,
        buttons=[[button("no_comment", NoComment(case_id=case.id))]],
    )


@router.button(NoComment)
async def no_comment(ctx: Context, data: NoComment) -> None:
    case = await owned_case(ctx, data.case_id)
    if case.rating is None or ctx.conversation.awaiting != Awaiting.CASE_RATING_COMMENT:
        raise Stale()
    ctx.expect(None)
    ctx.reply("buyer/survey_thanks", case=case, due=None)


@router.text(Awaiting.CASE_RATING_COMMENT)
async def comment(ctx: Context) -> None:
    case = await owned_case(ctx, ctx.conversation.case_id or 0)
    text = (ctx.event.text or "").strip()
    if len(text) > MAX_COMMENT:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_COMMENT)
        return
    ctx.expect(None)
    if case.rating is None or case.rating_comment is not None or not text:
        ctx.reply("buyer/survey_thanks", case=case, due=None)
        return
    surveys.comment(case, text)
    await cases.record(
        ctx.tx, case, ctx.now, "rating_comment", role=Role.BUYER, actor_id=ctx.event.author.id
    )
    _to_deciders(ctx, case, None)
    ctx.reply("buyer/survey_thanks", case=case, due=None)


async def _follow_up(ctx: Context, case: Case) -> datetime | None:
    """A 1 or a 2: the seller owes the buyer an answer by the policy's follow_up target."""
    if case.rating is None or case.rating > surveys.LOW:
        return None
    return await promising.promise(ctx, case, PromiseKind.FOLLOW_UP)


def _to_deciders(ctx: Context, case: Case, due: datetime | None) -> None:
    low = case.rating is not None and case.rating <= surveys.LOW
    ctx.to_deciders(
        case.seller_id,
        "seller/rated",
        case=case,
        order=case.order,
        due=due,
        case_id=case.id,
        buttons=[[button("answer_rating", AnswerRating(case_id=case.id))]] if low else [],
    )
