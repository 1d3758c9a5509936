"""Cancelling an order: before shipping it is cancelled and refunded in full; on the way the
buyer may refuse it at delivery, or keep it (with the policy's discount, if any)."""

from __future__ import annotations

from bot.domain.enums import CaseState, OrderStatus, PromiseKind, Reason, Remedy, Role, Want
from bot.domain.offers import StandardOffer, auto_approves
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases, ledger
from bot.storage.models import Case
from handlers.payloads import CancelOrder
from handlers.workflow import agreement, cards, promising
from handlers.workflow.access import case_at
from handlers.workflow.menu import show_menu
from handlers.workflow.proposals import propose
from handlers.workflow.wizard import BUYER, ask_cancel, policy_of

router = Router()


@router.button(CancelOrder)
async def decide(ctx: Context, data: CancelOrder) -> None:
    case = await case_at(ctx, data.case_id, CaseState.CANCEL_CONFIRM)
    order = case.order
    buyer_id = ctx.event.author.id
    match data.action:
        case "confirm":
            if not order.status.before_shipping:
                await ask_cancel(ctx, case)  # it shipped meanwhile: other choices now
                return
            order.status = OrderStatus.CANCELLED
            order.cancelled_at = ctx.now
            await cases.record(
                ctx.tx, case, ctx.now, "order_cancelled", role=BUYER, actor_id=buyer_id
            )
            await agreement.agree(
                ctx,
                case,
                amount=order.refundable,
                key=f"cancel:{case.id}",
                role=BUYER,
                note="cancelled before shipping",
                card=cards.cancelled_card,
            )
        case "refuse" if order.status.on_the_way:
            await _refuse_at_delivery(ctx, case)
        case "discount" if order.status.on_the_way:
            policy = policy_of(ctx, case)
            amount = order.value_of(None, None).percent(policy.keep_order_discount)
            amount = amount.min(order.refundable)
            if amount.is_zero or not policy.keep_order_discount:
                raise Stale()
            case.want = Want.KEEP
            await propose(
                ctx,
                case,
                StandardOffer(
                    remedy=Remedy.PERCENT,
                    amount=amount,
                    # A second discount on the same order is the seller's to give.
                    auto_approved=auto_approves(
                        policy, amount, await cases.earlier_requests(ctx.tx, case)
                    ),
                    return_shipping="seller",
                ),
            )
        case "keep":
            cases.move(case, CaseState.CLOSED, ctx.now)
            await cases.record(
                ctx.tx,
                case,
                ctx.now,
                "kept_order",
                role=Role.BUYER,
                actor_id=buyer_id,
            )
            show_menu(ctx, "buyer/order_kept")
        case _:
            raise Stale()


async def _refuse_at_delivery(ctx: Context, case: Case) -> None:
    """The refund is agreed now and owed by the seller once the parcel is back: a promise like
    any other, swept and escalated when late, kept by the seller's "returned to us" button
    (docs/conversations.md)."""
    order = case.order
    amount = order.refundable
    if amount.is_zero:
        raise Stale()
    case.want = Want.REFUSE
    await ledger.approve_refund(
        ctx.tx,
        order_id=order.id,
        amount=amount,
        reason=case.reason or Reason.CHANGED_MIND,
        key=f"refuse:{case.id}",
        now=ctx.now,
        case_id=case.id,
        note="refused at delivery",
    )
    cases.move(case, CaseState.EXECUTING, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "will_refuse_delivery",
        role=BUYER,
        actor_id=ctx.event.author.id,
        amount=amount,
    )
    # The parcel has to come back first: the refund is owed by the time a returned item is
    # checked (the policy's `return_inspection` target), not the sooner one of a refund.
    due = await promising.promise(
        ctx, case, PromiseKind.REFUND_EXECUTION, timed_as=PromiseKind.RETURN_INSPECTION
    )
    cards.show(ctx, case, cards.refusal_card(case, amount, due))
    show_menu(ctx, "buyer/refuse_at_delivery", amount=amount, due=due)
