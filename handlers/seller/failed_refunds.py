"""A refund the seller sent did not go through (a closed card, a bank's refusal): the seller
records it with the reason, the amount is owed again under a new promise, and the buyer is told
when it will be sent (docs/offers-and-promises.md#failed-refunds)."""

from __future__ import annotations

from bot.domain.enums import CaseState, PromiseKind, Role
from bot.engine.context import Context, button, column
from bot.engine.errors import Refusal, Stale
from bot.engine.router import Router
from bot.services import cases, ledger, promises
from bot.storage.models import Case, Refund
from handlers.payloads import RefundFailed
from handlers.workflow import cards, promising
from handlers.workflow.access import decider_case
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_REASON = 1000
MOST = 10  # refunds /failed offers to choose from
FAILED = "refund_failed"  # the case event that records it


async def _failable(ctx: Context, case: Case, refund_id: int) -> Refund | None:
    """The case's refund, approved or sent and not yet marked failed."""
    for refund in await ledger.refunds_of_case(ctx.tx, case.id):
        if refund.id == refund_id and refund.status in ledger.FAILABLE:
            return refund
    return None


@router.button(RefundFailed)
async def failed(ctx: Context, data: RefundFailed) -> None:
    case = await decider_case(ctx, data.case_id)
    refund = await _failable(ctx, case, data.refund_id)
    if refund is None:
        raise Stale()
    ctx.expect(Awaiting.SELLER_REFUND_FAILED, case_id=case.id, refund_id=refund.id)
    ctx.reply("seller/ask_refund_failed", case=case, amount=refund.amount)


@router.command("failed")
async def choose(ctx: Context, _args: str) -> None:
    """The way to it when the "sent" message is far up the chat: the latest refunds sent, each
    with its button."""
    if not ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider")
    ctx.act_as_seller(sorted(ctx.actor.seller_ids)[0])
    sent = await ledger.sent_refunds(ctx.tx, ctx.actor.seller_ids, MOST)
    ctx.expect(None)
    failable = [
        button(
            "refund_failed_on",
            RefundFailed(case_id=refund.case_id or 0, refund_id=refund.id),
            amount=refund.amount,
            case_id=refund.case_id,
        )
        for refund in sent
    ]
    ctx.reply("seller/failed_choose", count=len(sent), buttons=column(*failable))


@router.text(Awaiting.SELLER_REFUND_FAILED)
async def reason(ctx: Context) -> None:
    case = await decider_case(ctx, ctx.conversation.case_id or 0)
    refund = await _failable(ctx, case, int(ctx.conversation.data.get("refund_id", 0)))
    if refund is None:  # marked failed meanwhile, from another decider's chat
        ctx.expect(None)
        ctx.reply("common/stale")
        return
    why = (ctx.event.text or "").strip()
    if not why:
        ctx.reply("seller/ask_refund_failed", case=case, amount=refund.amount)
        return
    if len(why) > MAX_REASON:
        ctx.reply("common/too_long", length=len(why), max_length=MAX_REASON)
        return
    ctx.expect(None)
    amount = refund.amount
    await ledger.mark_failed(ctx.tx, refund, ctx.now, why)
    # Owed again as a refund of its own: the ledger counts it, and "sent" marks it as for any
    # approved refund. Its key names the failed one, so a replay finds it.
    await ledger.approve_refund(
        ctx.tx,
        order_id=refund.order_id,
        amount=amount,
        reason=refund.reason,
        key=f"again:{refund.id}",
        now=ctx.now,
        case_id=case.id,
        offer_id=refund.offer_id,
    )
    # A new promise replacing the one kept or broken, as the sweeper renews a missed one.
    before = await promises.latest(ctx.tx, case.id, PromiseKind.REFUND_EXECUTION)
    due = await promising.promise(ctx, case, PromiseKind.REFUND_EXECUTION, replaces=before)
    cases.move(case, None if case.state.is_open else CaseState.EXECUTING, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        FAILED,
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        refund_id=refund.id,
        amount=amount,
        reason=why,
    )
    ctx.to_buyer(
        case.buyer, "buyer/refund_failed", case=case, amount=amount, due=due, case_id=case.id
    )
    ctx.reply("seller/refund_failed_recorded", case=case, amount=amount, due=due, why=why)
    card = await cards.current_card(ctx.tx, case)
    if card is not None:
        cards.show(ctx, case, card, only_chat=ctx.event.chat_id)
