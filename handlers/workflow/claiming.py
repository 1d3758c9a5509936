"""Claiming an order imported without a Telegram id (docs/claiming.md): by opening the signed
link of its parcel card, or by typing its number and answering the one check the seller's
policy names. Also what an order number typed at the main menu does: it opens that order when
it is the sender's, and someone else's gets the same answer as an unknown one."""

from __future__ import annotations

import re

from bot.domain.claims import TOKEN, TokenState
from bot.domain.enums import Reason
from bot.engine.context import Context, button, column
from bot.services import claims, orders
from bot.storage import audit
from bot.storage.models import Order
from handlers.payloads import PickOrder
from handlers.workflow import opening
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.menu import menu_keyboard

# What a typed order number looks like: letters, digits and dashes, with a digit somewhere,
# maybe after "#" or "№". Words ("hello", "cable") are left to the menu's other answers.
ORDER_NUMBER = re.compile(r"[#№]?\s*(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9][A-Za-z0-9_-]{2,63}")


def looks_like_order_number(text: str) -> bool:
    return ORDER_NUMBER.fullmatch(text.strip()) is not None


def is_link_token(start_argument: str) -> bool:
    return TOKEN.fullmatch(start_argument) is not None


def show_order(ctx: Context, order: Order, *, claimed: bool = False) -> None:
    """The order and what the buyer can do with it."""
    ctx.expect(None)
    ctx.reply(
        "buyer/order_view",
        order=order,
        claimed=claimed,
        seller_name=ctx.seller(order.seller_id).name,
        buttons=column(
            *(
                button(f"menu_{flow}", PickOrder(flow=flow, order_id=order.id))
                for flow in ("problem", "return", "cancel", "person")
            )
        ),
    )


# -- links -------------------------------------------------------------------------------------


async def open_link(ctx: Context, token: str) -> None:
    """/start with a parcel card's token: the order, bound to the sender if nobody has it."""
    keys = ctx.claim_keys
    if keys is None:
        # No secret, so no link can be checked: said as for a mistyped link, and audited.
        _link_refused(ctx, "buyer/link_invalid", "claim.link_unchecked")
        return
    reading = keys.read(token, ctx.now)
    if reading.state is TokenState.FORGED or reading.order_id is None:
        _link_refused(ctx, "buyer/link_invalid", "claim.link_forged")
        return
    if reading.state is TokenState.EXPIRED:
        _link_refused(ctx, "buyer/link_expired", "claim.link_expired", reading.order_id)
        return
    order = await claims.order(ctx.tx, reading.order_id)
    if order is None:
        _link_refused(ctx, "buyer/link_invalid", "claim.link_forged", reading.order_id)
        return
    me = ctx.actor.buyer
    if order.buyer_id == me.telegram_id:
        show_order(ctx, order)  # the same account again: nothing to bind
        return
    if order.buyer_id is None and await claims.bind(ctx.tx, order, me, ctx.now):
        _audit(ctx, "claim.link", order.id, allowed=True)
        show_order(ctx, order, claimed=True)
        return
    _link_refused(ctx, "buyer/link_taken", "claim.link_taken", order.id)


def _link_refused(ctx: Context, template: str, action: str, order_id: int | None = None) -> None:
    """A link that binds nothing: said with the menu under it (its "Talk to a person" is the
    way on), and audited. Nothing was changed, so there is nothing to roll back."""
    _audit(ctx, action, order_id)
    ctx.expect(None)
    ctx.reply(template, buttons=menu_keyboard())


# -- by number ---------------------------------------------------------------------------------


async def order_typed(
    ctx: Context, number: str, *, flow: str | None = None, reason: Reason | None = None
) -> None:
    """A typed order number: the sender's own order opens (the flow picked, with a reason the
    buyer already typed: docs/understanding.md; else its view); one nobody has claimed asks the
    policy's check; anything else is "not found"."""
    found = await orders.orders_by_number(ctx.tx, number)
    me = ctx.actor.buyer.telegram_id
    mine = next((o for o in found if o.buyer_id == me), None)
    if mine is not None:
        if flow is None:
            show_order(ctx, mine)
        else:
            await opening.start_flow(ctx, mine, flow, reason)
        return
    claimable = next((o for o in found if o.buyer_id is None and _check_of(ctx, o)), None)
    if claimable is not None:
        await _ask_check(ctx, claimable, flow)
        return
    if found:
        # Someone else's order, or one that cannot be claimed: the same answer as for an
        # unknown number, so the reply tells nothing about other buyers; audited.
        audit.record(
            ctx.tx,
            ctx.now,
            actor_id=ctx.event.author.id,
            action="buyer.foreign_order",
            target=number[:64],
        )
    ctx.reply("buyer/order_not_found", number=number.strip())


def _check_of(ctx: Context, order: Order) -> str | None:
    """The order's stored answer to its seller's check, if it can be checked at all."""
    if ctx.claim_keys is None:
        return None
    return claims.stored_check(order, ctx.seller(order.seller_id).policy.claiming.check)


async def _ask_check(ctx: Context, order: Order, flow: str | None) -> None:
    until = await claims.blocked_until(ctx.tx, order.id, ctx.actor.buyer.telegram_id, ctx.now)
    if until is not None:
        _audit(ctx, "claim.cooling_down", order.id)
        ctx.expect(None)
        ctx.reply("buyer/claim_cooling", until=until)
        return
    ctx.expect(Awaiting.CLAIM_CHECK, order_id=order.id, flow=flow)
    ask_check(ctx, order)


def ask_check(ctx: Context, order: Order) -> None:
    check = ctx.seller(order.seller_id).policy.claiming.check
    ctx.reply("buyer/claim_ask", number=order.number, check=check.value)


async def check_answered(ctx: Context) -> None:
    """The answer to the check: right binds the order, wrong counts against the account."""
    order = await claims.order(ctx.tx, int(ctx.conversation.data.get("order_id", 0)))
    flow = ctx.conversation.data.get("flow")
    me = ctx.actor.buyer
    if order is None or order.buyer_id not in (None, me.telegram_id):
        # Claimed by someone else meanwhile, or re-bound by support.
        ctx.expect(None)
        ctx.reply("buyer/order_not_found", number=None)
        return
    if order.buyer_id == me.telegram_id:
        await _opened(ctx, order, flow, claimed=False)
        return
    rule = ctx.seller(order.seller_id).policy.claiming
    if await claims.blocked_until(ctx.tx, order.id, me.telegram_id, ctx.now):
        await _ask_check(ctx, order, flow)  # says until when
        return
    stored = _check_of(ctx, order)
    answer = (ctx.event.text or "")[:64]
    if stored is not None and ctx.claim_keys and ctx.claim_keys.matches(rule.check, answer, stored):
        if await claims.bind(ctx.tx, order, me, ctx.now):
            await claims.forget_answers(ctx.tx, order.id, me.telegram_id)
            _audit(ctx, "claim.check", order.id, allowed=True)
            await _opened(ctx, order, flow, claimed=True)
            return
        ctx.expect(None)
        ctx.reply("buyer/order_not_found", number=None)
        return
    left, until = await claims.wrong_answer(
        ctx.tx,
        order.id,
        me.telegram_id,
        ctx.now,
        tries=rule.tries,
        cool_down=rule.cool_down,
    )
    _audit(ctx, "claim.wrong_check", order.id, left=left)
    if until is not None:
        ctx.expect(None)
        ctx.reply("buyer/claim_cooling", until=until)
        return
    ctx.reply("buyer/claim_wrong", left=left)


async def _opened(ctx: Context, order: Order, flow: str | None, *, claimed: bool) -> None:
    if flow is None:
        show_order(ctx, order, claimed=claimed)
        return
    if claimed:
        ctx.reply("buyer/order_claimed", order=order)
    await opening.start_flow(ctx, order, flow)


def _audit(
    ctx: Context, action: str, order_id: int | None, *, allowed: bool = False, **detail: object
) -> None:
    audit.record(
        ctx.tx,
        ctx.now,
        actor_id=ctx.event.author.id,
        action=action,
        target=None if order_id is None else f"order:{order_id}",
        allowed=allowed,
        detail=dict(detail),
    )
