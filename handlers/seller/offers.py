"""The seller decides on an offer: approve it, change the amount, or refuse it with an
alternative. Several deciders may see the same offer; the first decision wins."""

from __future__ import annotations

from bot.domain.enums import CaseState, EscalationReason, OfferStatus, PromiseKind, Remedy, Role
from bot.domain.money import AmountError, Money, parse_amount
from bot.engine.context import Context, button
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, offers, promises
from bot.storage.models import Case, Offer
from handlers.payloads import Alternative, SellerOffer
from handlers.workflow import desk, notify
from handlers.workflow.access import decider_name, decider_offer
from handlers.workflow.awaiting import Awaiting

router = Router()
ALTERNATIVES = ("reship", "refund", "coupon", "support")


async def _pending(ctx: Context, offer_id: int) -> tuple[Case, Offer] | None:
    """The offer if it still waits for a decision; otherwise tells who decided it first."""
    case, offer = await decider_offer(ctx, offer_id)
    if offer.status is OfferStatus.PENDING_SELLER and case.state is CaseState.AWAITING_SELLER:
        return case, offer
    ctx.expect(None)
    if case.state is CaseState.ESCALATED:
        template = "seller/with_support"
    elif offer.decided_by_name:
        template = "seller/already_decided"
    else:
        template = "common/stale"
    if ctx.event.callback_id:
        ctx.answer(template, offer=offer)
    else:
        ctx.reply(template, offer=offer)
    return None


@router.button(SellerOffer)
async def decide(ctx: Context, data: SellerOffer) -> None:
    found = await _pending(ctx, data.offer_id)
    if found is None:
        return
    case, offer = found
    match data.action:
        case "approve" if offer.amount is not None or not offer.remedy.moves_money:
            await _decided(ctx, case, offer, OfferStatus.OFFERED, "approve")
            ctx.reply("seller/decision_sent", offer=offer, case=case)
        case "change":
            _ask_amount(ctx, case, offer, "change")
        case "refuse":
            ctx.expect(None)
            ctx.reply(
                "seller/ask_alternative",
                case=case,
                offer=offer,
                buttons=[
                    [button(f"alt_{a}", Alternative(offer_id=offer.id, remedy=a))]
                    for a in ALTERNATIVES
                    if a != offer.remedy.value
                ],
            )
        case _:
            raise Stale()


@router.button(Alternative)
async def alternative(ctx: Context, data: Alternative) -> None:
    found = await _pending(ctx, data.offer_id)
    if found is None:
        return
    case, offer = found
    match data.remedy:
        case "reship" | "replacement":
            await _decided(
                ctx, case, offer, OfferStatus.REFUSED, "refuse", note="alternative: reship"
            )
            new = await _counter(ctx, case, Remedy.RESHIP, None)
            ctx.reply("seller/decision_sent", offer=new, case=case)
        case "refund" | "coupon":
            _ask_amount(ctx, case, offer, data.remedy)
        case "support":
            await _decided(ctx, case, offer, OfferStatus.REFUSED, "refuse", note="no alternative")
            await desk.escalate(ctx, case, EscalationReason.SELLER_NO_ALTERNATIVE, role=Role.SELLER)
            ctx.reply("seller/handed_to_support", case=case)
        case _:
            raise Stale()


def _ask_amount(ctx: Context, case: Case, offer: Offer, mode: str) -> None:
    ctx.expect(Awaiting.SELLER_AMOUNT, case_id=case.id, offer_id=offer.id, mode=mode)
    ctx.reply("seller/ask_amount", case=case, offer=offer, mode=mode, limit=_limit(case, mode))


def _limit(case: Case, mode: str) -> Money:
    # A coupon is store credit, not money back: it is bounded by the order, not by the ledger.
    return case.order.paid_total if mode == "coupon" else case.order.refundable


@router.text(Awaiting.SELLER_AMOUNT)
async def amount_typed(ctx: Context) -> None:
    found = await _pending(ctx, ctx.conversation.offer_id or 0)
    if found is None:
        return
    case, offer = found
    mode = ctx.conversation.data.get("mode", "change")
    limit = _limit(case, mode)
    try:
        amount = parse_amount(ctx.event.text or "", case.order.currency, maximum=limit)
    except AmountError as error:
        ctx.reply("common/amount_error", code=error.code, limit=limit)
        return
    if mode == "change":
        await _decided(ctx, case, offer, OfferStatus.CHANGED, "change", amount=amount)
        new = await _counter(ctx, case, Remedy.REFUND, amount)
    else:
        remedy = Remedy.COUPON if mode == "coupon" else Remedy.REFUND
        await _decided(
            ctx,
            case,
            offer,
            OfferStatus.REFUSED,
            "refuse",
            amount=amount,
            note=f"alternative: {mode}",
        )
        new = await _counter(ctx, case, remedy, amount)
    ctx.expect(None)
    ctx.reply("seller/decision_sent", offer=new, case=case)


async def _decided(
    ctx: Context,
    case: Case,
    offer: Offer,
    status: OfferStatus,
    action: str,
    *,
    amount: Money | None = None,
    note: str | None = None,
) -> None:
    won = await offers.decide(
        ctx.tx,
        offer,
        expected=OfferStatus.PENDING_SELLER,
        status=status,
        action=action,
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        actor_name=decider_name(ctx),
        now=ctx.now,
        amount=amount,
        note=note,
    )
    if not won:
        raise Stale("seller/already_decided", offer=offer)
    await promises.keep(ctx.tx, case.id, ctx.now, PromiseKind.SELLER_DECISION)
    if status is OfferStatus.OFFERED:
        cases.move(case, CaseState.AWAITING_BUYER, ctx.now)
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "seller_approved",
            role=Role.SELLER,
            actor_id=ctx.event.author.id,
            offer=offer.id,
        )
        notify.offer_to_buyer(ctx, case, offer)


async def _counter(ctx: Context, case: Case, remedy: Remedy, amount: Money | None) -> Offer:
    return await notify.own_offer(
        ctx, case, remedy, amount, role=Role.SELLER, action="seller_countered"
    )
