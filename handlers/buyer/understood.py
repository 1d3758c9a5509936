"""Words a buyer types where the bot waits for a button, or at no question at all, understood
(docs/understanding.md): asking for a person, a problem, a return or a cancellation (with its
reason and order when the words give them), their orders, where their request stands, a hello.
What is not understood gets today's answer: the question again, or the menu."""

from __future__ import annotations

from bot.domain.enums import CaseState
from bot.engine.context import Context
from bot.engine.router import Router
from bot.services import cases, orders, understanding
from bot.storage.models import Case, Order
from bot.understanding import Intent, Understanding, order_numbers
from handlers.buyer.menu import list_orders
from handlers.buyer.orders import ask_order
from handlers.buyer.person import person
from handlers.workflow import aftersales, claiming, deductions, opening
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.menu import menu_keyboard, show_menu
from handlers.workflow.opening import WAITING_FOR_THE_BUYER
from handlers.workflow.wizard import take_typed_reason, tell_status

router = Router()
# Longer messages are a story for a person, not a choice from the menu.
MAX_UNDERSTOOD = 1000
FLOWS = (Intent.PROBLEM, Intent.RETURN, Intent.CANCEL)
# Cases whose step is a button question the buyer may answer in words.
ANSWERED_IN_WORDS = (*cases.DRAFT_STATES,)


@router.free_text
async def understood(ctx: Context) -> bool:
    text = (ctx.event.text or "").strip()
    state = ctx.conversation.awaiting
    if not text or len(text) > MAX_UNDERSTOOD or state not in (None, Awaiting.CASE):
        return False
    meant = understanding.understand(text)
    if state is None:
        return await _at_the_menu(ctx, meant)
    return await _at_a_question(ctx, meant)


async def instead_of_a_number(ctx: Context) -> bool:
    """Words at the order question that are no order number ("позовите оператора", "it doesn't
    work") are understood as at the menu; anything else is looked up as a number."""
    text = (ctx.event.text or "").strip()
    if not text or len(text) > MAX_UNDERSTOOD or order_numbers(text):
        return False
    meant = understanding.understand(text)
    return meant.intent is not Intent.UNKNOWN and await _at_the_menu(ctx, meant)


async def _at_the_menu(ctx: Context, meant: Understanding) -> bool:
    if meant.intent is Intent.PERSON:
        await person(ctx)
        return True
    if meant.intent is Intent.UNKNOWN:
        return False
    if meant.intent is Intent.PROBLEM and await deductions.offer_dispute(ctx):
        return True  # a complaint after a deduction gets the way to dispute it, as before
    if meant.intent in (Intent.PROBLEM, Intent.STATUS) and await _still_not_right(ctx, meant):
        return True
    match meant.intent:
        case Intent.GREETING:
            ctx.expect(None)
            ctx.reply("buyer/welcome", buttons=menu_keyboard(), name=ctx.actor.buyer.name)
        case Intent.ORDERS:
            await list_orders(ctx, "")
        case Intent.STATUS:
            await _status(ctx)
        case _:
            await _start(ctx, meant, None)
    return True


async def _at_a_question(ctx: Context, meant: Understanding) -> bool:
    case_id = ctx.conversation.case_id
    case = await cases.lock_case(ctx.tx, case_id) if case_id else None
    if case is None or case.buyer_id != ctx.event.author.id:
        return False
    if case.state in WAITING_FOR_THE_BUYER and meant.intent is Intent.PERSON:
        await person(ctx)  # an offer or a return to send: only a person is asked for instead
        return True
    if (
        meant.intent in (Intent.PROBLEM, Intent.STATUS)
        and case.state is CaseState.RESOLVED
        and await _still_not_right(ctx, meant)
    ):
        return True  # the chat still names a case that ended: words about it reopen it
    if case.state not in ANSWERED_IN_WORDS:
        return False  # a case with the seller or an offer: the step's own answer stands
    if await take_typed_reason(ctx, case, meant.reason):
        return True
    match meant.intent:
        case Intent.PERSON:
            await person(ctx)
        case Intent.STATUS:
            await _status(ctx)
        case Intent.ORDERS:
            await list_orders(ctx, "")
        case intent if intent in FLOWS and intent.value != case.kind.value:
            await _start(ctx, meant, case.order)  # another flow on the order being described
        case _:
            return False
    return True


async def _start(ctx: Context, meant: Understanding, current: Order | None) -> None:
    """The flow on the order the words name, else the one being talked about, else the buyer's
    only order; else the buyer picks one, and the reason waits with the question."""
    flow = meant.intent.value
    order: Order | None = current
    if meant.order is not None:
        # The sender's order opens in the flow; one nobody has claimed asks the seller's check
        # first (docs/claiming.md); anyone else's is "not found" and audited.
        await claiming.order_typed(ctx, meant.order, flow=flow, reason=meant.reason)
        return
    if order is None:
        mine = await orders.buyer_orders(ctx.tx, ctx.actor.buyer.telegram_id)
        if len(mine) != 1:
            await ask_order(ctx, flow=flow, reason=meant.reason)
            return
        order = mine[0]
    await opening.start_flow(ctx, order, flow, meant.reason)


async def _still_not_right(ctx: Context, meant: Understanding) -> bool:
    """A problem, or a question of where it stands, about a case resolved within the policy's
    window, with nothing else open: the same case again (docs/aftersales.md)."""
    buyer = ctx.actor.buyer.telegram_id
    case_id = await cases.latest_resolved_of_buyer(ctx.tx, buyer)
    if case_id is None or await cases.open_cases_of_buyer(ctx.tx, buyer, limit=1):
        return False
    case = await cases.lock_case(ctx.tx, case_id)
    if case is None or not aftersales.reopenable(ctx, case):
        return False
    if (
        meant.order is not None
        and meant.order.lstrip("#").casefold() != case.order.number.casefold()
    ):
        return False
    aftersales.ask_second_round(ctx, case)
    return True


async def _status(ctx: Context) -> None:
    """Where each of the buyer's open requests stands; with none, the menu."""
    mine: list[Case] = await cases.open_cases_of_buyer(ctx.tx, ctx.actor.buyer.telegram_id)
    if not mine:
        show_menu(ctx, "buyer/no_open_cases")
        return
    for case in mine:
        await tell_status(ctx, case)
