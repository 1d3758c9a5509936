"""Cancelling an order: before shipping it is cancelled and refunded in full; on the way the
buyer may refuse it at delivery, or keep it (with the policy's discount, if any)."""

from __future__ import annotations

from bot.domain.enums import CaseState, OrderStatus, Remedy, Role, Want
from bot.domain.offers import StandardOffer, auto_approves
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases
from handlers import agreement
from handlers.buyer.common import show_menu
from handlers.buyer.problem import case_at
from handlers.buyer.steps import BUYER, ask_cancel, policy_of, propose
from handlers.payloads import CancelOrder

router = Router()


@router.button(CancelOrder)
async def decide(ctx: Context, data: CancelOrder) -> None:
    case = await case_at(ctx, data.case_id, CaseState.CANCEL_CONFIRM)
    order = case.order
    buyer_id = ctx.event.sender.id
    match data.action:
        case "confirm":
            if not order.status.before_shipping:
                await ask_cancel(ctx, case)  # it shipped meanwhile: other choices now
                return
            order.status = OrderStatus.CANCELLED
            order.cancelled_at = ctx.now
            await cases.record(
                ctx.session, case, ctx.now, "order_cancelled", role=BUYER, actor_id=buyer_id
            )
            await agreement.agree(
                ctx,
                case,
                amount=order.refundable,
                key=f"cancel:{case.id}",
                role=BUYER,
                note="cancelled before shipping",
            )
        case "refuse" if order.status.on_the_way:
            await cases.record(
                ctx.session,
                case,
                ctx.now,
                "will_refuse_delivery",
                role=BUYER,
                actor_id=buyer_id,
                state=CaseState.RESOLVED,
            )
            ctx.to_deciders(
                case.seller_id, "seller/refusal_coming", case=case, order=order, case_id=case.id
            )
            show_menu(ctx, "buyer/refuse_at_delivery")
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
                        policy, amount, await cases.earlier_requests(ctx.session, case)
                    ),
                    return_shipping="seller",
                ),
            )
        case "keep":
            await cases.record(
                ctx.session,
                case,
                ctx.now,
                "kept_order",
                role=Role.BUYER,
                actor_id=buyer_id,
                state=CaseState.CLOSED,
            )
            show_menu(ctx, "buyer/order_kept")
        case _:
            raise Stale()
