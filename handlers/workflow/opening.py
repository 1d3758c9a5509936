"""Opening a case on one of the buyer's orders: a problem, a return or a cancellation, each
only when the order is in a state that allows it (else the buyer is told why, and what they
can do instead); then the wizard asks its first question. An order has one open case at a
time (docs/conversations-cases.md)."""

from __future__ import annotations

from bot.domain.enums import CaseKind, CaseState, EscalationReason, OrderStatus, Reason, Role
from bot.domain.offers import return_window
from bot.engine.context import Context, button, column
from bot.services import cases
from bot.storage.models import Case, Order
from handlers.payloads import PickOrder, Withdraw
from handlers.workflow import desk
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.wizard import advance, resume, take_typed_reason

# Open cases whose next step is the buyer's: shown again when they start another request.
WAITING_FOR_THE_BUYER = (CaseState.AWAITING_BUYER, CaseState.RETURN_SHIPPING)


async def start_flow(ctx: Context, order: Order, flow: str, reason: Reason | None = None) -> None:
    """Start `flow` (problem, return, cancel, or asking for a person) on the order, or take
    the buyer to the case already open on it. A reason the buyer already typed skips the
    reason question (docs/understanding.md)."""
    existing = await cases.open_case_of(ctx.tx, order.id)
    if flow == "person" and existing is not None and existing.state is not CaseState.ESCALATED:
        ctx.expect(Awaiting.CASE, case_id=existing.id)
        await desk.escalate(ctx, existing, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        return
    if existing is not None:
        if existing.state in cases.DRAFT_STATES:
            cases.move(existing, CaseState.CLOSED, ctx.now)
            await cases.record(
                ctx.tx,
                existing,
                ctx.now,
                "replaced_by_new_request",
                role=Role.BUYER,
                actor_id=ctx.event.author.id,
            )
        else:
            # One open case an order: the buyer is taken to it rather than given a second,
            # which could be paid again for the same thing (docs/conversations-cases.md).
            yours = existing.state in WAITING_FOR_THE_BUYER
            ctx.expect(None)
            ctx.reply(
                "buyer/case_in_progress",
                case=existing,
                order=order,
                yours=yours,
                buttons=[[button("withdraw", Withdraw(case_id=existing.id))]],
            )
            if yours:
                await resume(ctx, existing)  # its question again, with its buttons
            return
    match flow:
        case "return":
            await start_return(ctx, order, reason)
        case "cancel":
            await start_cancel(ctx, order, reason)
        case "person":
            case = await _open(ctx, order, CaseKind.PROBLEM)
            ctx.expect(Awaiting.CASE, case_id=case.id)
            await desk.escalate(ctx, case, EscalationReason.BUYER_ASKED, role=Role.BUYER)
        case _:
            await start_problem(ctx, order, reason)


async def start_problem(ctx: Context, order: Order, reason: Reason | None = None) -> None:
    if not order.status.received:
        ctx.expect(None)
        ctx.reply(
            "buyer/problem_not_delivered",
            order=order,
            buttons=column(button("menu_cancel", PickOrder(flow="cancel", order_id=order.id)))
            if order.status is not OrderStatus.CANCELLED
            else (),
        )
        return
    await _begin(ctx, await _open(ctx, order, CaseKind.PROBLEM), reason)


async def start_cancel(ctx: Context, order: Order, reason: Reason | None = None) -> None:
    if order.status is OrderStatus.CANCELLED:
        ctx.expect(None)
        ctx.reply("buyer/cancel_already", order=order)
        return
    if order.status.received:
        ctx.expect(None)
        ctx.reply(
            "buyer/cancel_delivered",
            order=order,
            buttons=column(button("menu_return", PickOrder(flow="return", order_id=order.id))),
        )
        return
    await _begin(ctx, await _open(ctx, order, CaseKind.CANCEL), reason)


async def start_return(ctx: Context, order: Order, reason: Reason | None = None) -> None:
    policy = ctx.seller(order.seller_id).policy
    if not order.status.received or order.delivered_at is None:
        ctx.expect(None)
        ctx.reply("buyer/return_not_delivered", order=order)
        return
    window = return_window(policy, order.delivered_at, ctx.now)
    if not window.open:
        ctx.expect(None)
        ctx.reply(
            "buyer/return_window_closed",
            order=order,
            closes_at=window.closes_at,
            buttons=column(button("menu_problem", PickOrder(flow="problem", order_id=order.id))),
        )
        return
    await _begin(ctx, await _open(ctx, order, CaseKind.RETURN), reason)


async def _begin(ctx: Context, case: Case, reason: Reason | None) -> None:
    if not await take_typed_reason(ctx, case, reason):
        await advance(ctx, case)


async def _open(ctx: Context, order: Order, kind: CaseKind) -> Case:
    """A new case on the order, its first question (the reason) still to ask."""
    case = await cases.open_case(ctx.tx, order, kind, CaseState.REASON, ctx.now)
    await cases.record(
        ctx.tx, case, ctx.now, "opened", role=Role.BUYER, actor_id=ctx.event.author.id
    )
    return case
