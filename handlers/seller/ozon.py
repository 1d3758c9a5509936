"""Ozon's returns and cancellations in the seller's chat (docs/ozon.md).

An rFBS return read from Ozon becomes a return case on its order and a card for the seller's
deciders, with a button for each action Ozon lists for it. A tap records the decision; the
Ozon worker (bot/runtime/ozon_desk.py) carries it out outside any transaction and the outcome
comes back here as an event of the bot's own, recorded once. A buyer who is not in Telegram (the
usual Ozon buyer) is never written to: the case has no buyer and `Context.to_buyer` sends nothing.
"""

from __future__ import annotations

from bot.domain.enums import CaseKind, CaseState, Reason, Role
from bot.domain.money import AmountError, Money, parse_amount
from bot.engine.context import Context, Keyboard, button, column
from bot.engine.errors import Refusal, Stale
from bot.engine.own_events import (
    OzonCancellationActed,
    OzonCancellationIn,
    OzonReturnActed,
    OzonReturnIn,
)
from bot.engine.router import Router
from bot.services import cases, ledger
from bot.services import ozon_returns as ozon
from bot.storage.models import Case, Order, OzonCancellation, OzonReturn
from handlers.payloads import OzonAction, OzonCancellationDecision, OzonRejectWhy
from handlers.workflow import cards
from handlers.workflow.access import decider_case
from handlers.workflow.awaiting import Awaiting

router = Router()
MAX_COMMENT = 1000
SHOWN = 10  # FBO/FBS returns /ozon_returns lists


def _system(ctx: Context) -> None:
    if not ctx.event.system:
        raise Refusal("common/not_allowed", audit="ozon.forged")


def _buttons(row: OzonReturn) -> Keyboard:
    """One per action Ozon lists for the return, never one it does not (docs/ozon.md)."""
    rows = []
    for action_id, name in ozon.actions_of(row):
        label = (
            "ozon_compensate"
            if action_id == ozon.COMPENSATE_ID
            else "ozon_reject"
            if action_id in ozon.REJECT_IDS
            else "ozon_action"
        )
        rows.append(button(label, OzonAction(row_id=row.id, action_id=action_id), name=name))
    return column(*rows)


def return_card(case: Case, row: OzonReturn) -> cards.Card:
    return cards.Card(
        "seller/ozon_return",
        {"case": case, "order": case.order, "ret": row.data, "row": row},
        _buttons(row),
    )


@router.button(OzonReturnIn)
async def arrived(ctx: Context, data: OzonReturnIn) -> None:
    _system(ctx)
    row = await ozon.lock_return(ctx.tx, data.row_id)
    if row is None or row.case_id is not None or row.order_id is None:
        return
    order = await ozon.order_of(ctx.tx, row.order_id)
    assert order is not None
    case = await cases.open_case_of(ctx.tx, order.id)
    if case is None:
        case = await cases.open_case(
            ctx.tx, order, CaseKind.RETURN, CaseState.AWAITING_SELLER, ctx.now
        )
        sku = row.data.get("product", {}).get("sku")
        item = next((i for i in order.items if sku and i.sku == str(sku)), None)
        case.reason = ozon.reason_of(row.data)
        case.item_id = item.id if item else None
        case.quantity = 1 if item else None
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "opened_on_ozon",
            role=Role.SYSTEM,
            actor_id=None,
            ozon_return=row.ozon_id,
        )
    else:
        # One open case an order (docs/conversations-cases.md): the buyer's own request in
        # Telegram and the return they opened on Ozon are the same matter.
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "ozon_return_linked",
            role=Role.SYSTEM,
            actor_id=None,
            ozon_return=row.ozon_id,
        )
    row.case_id = case.id
    cards.show(ctx, case, return_card(case, row))


async def _decider_return(ctx: Context, row_id: int) -> tuple[Case, OzonReturn]:
    """The return and its case, if the sender decides for its seller and nothing it decided
    before is still being carried out."""
    row = await ozon.return_row(ctx.tx, row_id)
    if row is None or row.case_id is None:
        raise Stale()
    case = await decider_case(ctx, row.case_id)
    locked = await ozon.lock_return(ctx.tx, row_id)
    assert locked is not None
    if locked.act_status == ozon.PENDING:
        raise Refusal("seller/ozon_in_progress")
    return case, locked


@router.button(OzonAction)
async def act(ctx: Context, data: OzonAction) -> None:
    case, row = await _decider_return(ctx, data.row_id)
    name = ozon.action_name(row, data.action_id)
    if name is None:
        raise Stale()
    if data.action_id in ozon.REJECT_IDS:
        ctx.expect(None)
        why = [
            button(
                "ozon_rejection_reason",
                OzonRejectWhy(row_id=row.id, action_id=data.action_id, reason_id=reason_id),
                name=reason_name,
            )
            for reason_id, reason_name in ozon.rejection_reasons(row)
        ]
        ctx.reply("seller/ozon_reject_why", case=case, count=len(why), buttons=column(*why))
        return
    if data.action_id == ozon.COMPENSATE_ID:
        ctx.expect(Awaiting.SELLER_OZON_AMOUNT, case_id=case.id, row_id=row.id)
        ctx.reply("seller/ozon_ask_amount", case=case, limit=case.order.refundable)
        return
    amount: Money | None = None
    if ozon.pays_in_full(data.action_id, name):
        price = ozon.product_price(row)
        amount = case.affected_value if price is None else Money(price, case.order.currency)
        amount = min(amount, case.order.refundable)
    await _decided(ctx, case, row, data.action_id, name, amount=amount)


@router.button(OzonRejectWhy)
async def reject_why(ctx: Context, data: OzonRejectWhy) -> None:
    case, row = await _decider_return(ctx, data.row_id)
    if ozon.action_name(row, data.action_id) is None:
        raise Stale()
    if data.reason_id not in {i for i, _ in ozon.rejection_reasons(row)}:
        raise Stale()
    ctx.expect(
        Awaiting.SELLER_OZON_COMMENT,
        case_id=case.id,
        row_id=row.id,
        action_id=data.action_id,
        reason_id=data.reason_id,
    )
    ctx.reply("seller/ozon_ask_comment", case=case)


@router.text(Awaiting.SELLER_OZON_COMMENT)
async def comment(ctx: Context) -> None:
    case, row = await _decider_return(ctx, int(ctx.conversation.data.get("row_id", 0)))
    action_id = int(ctx.conversation.data.get("action_id", 0))
    name = ozon.action_name(row, action_id)
    if name is None:
        ctx.expect(None)
        ctx.reply("common/stale")
        return
    text = (ctx.event.text or "").strip()
    if not text:
        ctx.reply("seller/ozon_ask_comment", case=case)
        return
    if len(text) > MAX_COMMENT:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_COMMENT)
        return
    reason_id = int(ctx.conversation.data.get("reason_id", 0))
    ctx.expect(None)
    await _decided(ctx, case, row, action_id, name, comment=text, reason_id=reason_id)


@router.text(Awaiting.SELLER_OZON_AMOUNT)
async def amount(ctx: Context) -> None:
    case, row = await _decider_return(ctx, int(ctx.conversation.data.get("row_id", 0)))
    name = ozon.action_name(row, ozon.COMPENSATE_ID)
    if name is None:
        ctx.expect(None)
        ctx.reply("common/stale")
        return
    limit = case.order.refundable
    try:
        money = parse_amount(ctx.event.text or "", case.order.currency, maximum=limit)
    except AmountError as error:
        ctx.reply("common/amount_error", code=error.code, limit=limit)
        return
    ctx.expect(None)
    await _decided(ctx, case, row, ozon.COMPENSATE_ID, name, amount=money)


async def _decided(
    ctx: Context,
    case: Case,
    row: OzonReturn,
    action_id: int,
    name: str,
    *,
    amount: Money | None = None,
    comment: str | None = None,
    reason_id: int | None = None,
) -> None:
    """Record the decision for the worker to carry out on Ozon. Money it pays goes through
    the ledger first, keyed by the return and the decision, so a retry finds the same row."""
    refund_id = None
    if amount is not None and amount.minor > 0:
        key = ozon.refund_key(row)
        await ledger.approve_refund(
            ctx.tx,
            order_id=case.order_id,
            amount=amount,
            reason=case.reason or Reason.OTHER,
            key=key,
            now=ctx.now,
            case_id=case.id,
            note=f"Ozon return {row.ozon_id}",
        )
        refund_id = await ozon.refund_id_by_key(ctx.tx, key)
    ozon.decide(
        row,
        action_id,
        by=ctx.event.author.id,
        amount_minor=amount.minor if amount is not None else None,
        comment=comment,
        reason_id=reason_id,
        refund_id=refund_id,
    )
    cases.move(case, CaseState.EXECUTING, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "ozon_decided",
        role=Role.SELLER,
        actor_id=ctx.event.author.id,
        ozon_action=action_id,
        amount=amount or "",
    )
    ctx.reply("seller/ozon_sending", case=case, action=name, amount=amount)


@router.button(OzonReturnActed)
async def acted(ctx: Context, data: OzonReturnActed) -> None:
    _system(ctx)
    row = await ozon.return_row(ctx.tx, data.row_id)
    if row is None or row.case_id is None:
        return
    case = await cases.lock_case(ctx.tx, row.case_id)
    row = await ozon.lock_return(ctx.tx, data.row_id)
    if case is None or row is None or row.act_recorded or row.act_seq != data.seq:
        return
    row.act_recorded = True
    refund = await ozon.refund_of(ctx.tx, row)
    amount = refund.amount if refund is not None else None
    action = row.act_id or 0
    if row.act_status == ozon.DONE:
        if refund is not None:
            ledger.mark_executed(refund, ctx.now)
        await cases.record(
            ctx.tx, case, ctx.now, "ozon_done", role=Role.SYSTEM, actor_id=None, ozon_action=action
        )
        if action in ozon.REJECT_IDS:
            cases.move(case, CaseState.CLOSED, ctx.now)
        elif refund is not None or not ozon.actions_of(row):
            cases.move(case, CaseState.RESOLVED, ctx.now)
        else:
            cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
        ctx.to_deciders(
            case.seller_id,
            "seller/ozon_done",
            case=case,
            rejected=action in ozon.REJECT_IDS,
            amount=amount,
            case_id=case.id,
        )
        if amount is not None:
            ctx.to_buyer(
                case.buyer, "buyer/ozon_refunded", case=case, amount=amount, case_id=case.id
            )
    else:
        why = row.act_error or ""
        if refund is not None and refund.status in ledger.FAILABLE:
            # Refused: the amount is refundable again and the seller decides anew; what was
            # promised stays open (docs/aftersales.md, "failed refunds").
            await ledger.mark_failed(ctx.tx, refund, ctx.now, why)
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "ozon_failed",
            role=Role.SYSTEM,
            actor_id=None,
            ozon_action=action,
            reason=why,
        )
        cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
        ctx.to_deciders(
            case.seller_id,
            "seller/ozon_failed",
            case=case,
            why=why,
            amount=amount,
            case_id=case.id,
        )
    if case.state is CaseState.AWAITING_SELLER and ozon.actions_of(row):
        cards.show(ctx, case, return_card(case, row))


# -- conditional cancellations -----------------------------------------------------------------


def cancellation_card(row: OzonCancellation, order: Order | None) -> cards.Card:
    return cards.Card(
        "seller/ozon_cancellation",
        {"c": row, "order": order},
        [
            [
                button("ozon_approve", OzonCancellationDecision(row_id=row.id, approve=True)),
                button("ozon_keep", OzonCancellationDecision(row_id=row.id, approve=False)),
            ]
        ],
    )


@router.button(OzonCancellationIn)
async def cancellation_arrived(ctx: Context, data: OzonCancellationIn) -> None:
    _system(ctx)
    row = await ozon.lock_cancellation(ctx.tx, data.row_id)
    if row is None or row.shown_at is not None:
        return
    row.shown_at = ctx.now
    order = await ozon.order_of(ctx.tx, row.order_id)
    card = cancellation_card(row, order)
    ctx.to_deciders(row.seller_id, card.template, buttons=card.buttons, **card.variables)


@router.button(OzonCancellationDecision)
async def cancellation_decided(ctx: Context, data: OzonCancellationDecision) -> None:
    row = await ozon.lock_cancellation(ctx.tx, data.row_id)
    if row is None:
        raise Stale()
    if row.seller_id not in ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider")
    ctx.act_as_seller(row.seller_id)
    if row.decision is not None:
        ctx.reply("seller/ozon_cancellation_already", c=row)
        return
    row.decision = "approve" if data.approve else "reject"
    row.act_status, row.act_recorded, row.act_by = ozon.PENDING, False, ctx.event.author.id
    row.updated_at = ctx.now
    ctx.reply("seller/ozon_cancellation_sending", c=row, approve=data.approve)


@router.button(OzonCancellationActed)
async def cancellation_acted(ctx: Context, data: OzonCancellationActed) -> None:
    _system(ctx)
    row = await ozon.lock_cancellation(ctx.tx, data.row_id)
    if row is None or row.act_recorded:
        return
    row.act_recorded = True
    ctx.to_deciders(
        row.seller_id,
        "seller/ozon_cancellation_done",
        c=row,
        done=row.act_status == ozon.DONE,
        approve=row.decision == "approve",
        why=row.act_error or "",
    )


@router.command("ozon_returns")
async def seller_returns(ctx: Context, _args: str) -> None:
    """Ozon's FBO/FBS returns, read-only: Ozon decides them (docs/ozon.md)."""
    if not ctx.actor.seller_ids:
        raise Refusal("common/not_allowed", audit="seller.not_decider")
    ctx.act_as_seller(sorted(ctx.actor.seller_ids)[0])
    ctx.expect(None)
    found = await ozon.seller_returns(ctx.tx, sorted(ctx.actor.seller_ids), SHOWN)
    ctx.reply("seller/ozon_returns", returns=found)
