"""What support members do on the desk: take a case, talk to the buyer through the bot,
propose an offer, approve a refund, hand the case back to the bot, resolve it; /queue.

Only configured support members act; anyone else is refused, and the refusal audited. The
case a command acts on comes from the topic the message is in, or, with no support group, from
the case the member picked in their private chat (handlers/workflow/private_desk.py), never
from what is typed."""

from __future__ import annotations

from bot.domain.enums import (
    CaseKind,
    CaseState,
    OfferStatus,
    PromiseKind,
    Remedy,
    Role,
)
from bot.domain.money import AmountError, Money, parse_amount
from bot.engine.context import Context
from bot.engine.errors import Refusal, Stale
from bot.engine.router import Router
from bot.services import cases, claims, ledger, offers, orders, promises, topics
from bot.storage import audit
from bot.storage.models import Case
from handlers.payloads import OpenCases, Take, WorkOn
from handlers.workflow import aftersales, agreement, cards, desk, notify, private_desk, promising
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.wizard import WANTS, advance, want_keyboard

router = Router()
MAX_RELAY = 3000
QUEUE_SIZE = 20


def _member(ctx: Context) -> str:
    if not ctx.actor.is_support or ctx.event.system:
        raise Refusal("common/not_allowed", audit="support.not_member")
    ctx.act_as_support()
    for member in ctx.shop.support.members:
        if member.telegram_id == ctx.event.author.id:
            return member.name or ctx.event.author.name or str(member.telegram_id)
    return ctx.event.author.name


async def _topic_case(ctx: Context) -> Case | None:
    """The case whose topic this message is in (None outside a topic)."""
    if ctx.event.thread_id is None:
        return None
    case_id = await topics.case_id_of_topic(ctx.tx, ctx.event.chat_id, ctx.event.thread_id)
    return await cases.lock_case(ctx.tx, case_id) if case_id else None


async def _escalated(ctx: Context) -> tuple[Case, str]:
    agent = _member(ctx)
    if private_desk.applies(ctx):
        case = await private_desk.current_case(ctx)
        if case is None:
            raise Refusal("support/no_case")
    else:
        case = await _topic_case(ctx)
        if case is None:
            raise Refusal("support/not_a_case_topic")
    if case.state is not CaseState.ESCALATED:
        raise Refusal("support/not_escalated", case=case)
    return case, agent


async def _take(ctx: Context, case: Case, agent: str) -> None:
    if case.taken_by == ctx.event.author.id:
        return
    case.taken_by = ctx.event.author.id
    case.taken_by_name = agent
    await cases.record(ctx.tx, case, ctx.now, "taken", role=Role.SUPPORT, actor_id=case.taken_by)
    await desk.show_topic(ctx, case, desk.TAKEN)
    desk.to_desk(ctx, case, "support/taken", case=case, agent=agent)


async def _replied(ctx: Context, case: Case) -> None:
    """Support answered the buyer: the promise of a reply is kept."""
    await promises.keep(ctx.tx, case.id, ctx.now, PromiseKind.SUPPORT_REPLY)


@router.button(Take)
async def take_button(ctx: Context, data: Take) -> None:
    agent = _member(ctx)
    case = await cases.lock_case(ctx.tx, data.case_id)
    if case is None or case.state is not CaseState.ESCALATED:
        raise Stale()
    if case.taken_by not in (None, ctx.event.author.id):
        ctx.answer("support/already_taken", agent=case.taken_by_name or str(case.taken_by))
        return
    await _take(ctx, case, agent)
    if private_desk.applies(ctx):
        private_desk.work_on(ctx, case)


@router.button(WorkOn)
async def work_on(ctx: Context, data: WorkOn) -> None:
    """A member picks, in their private chat, the case their messages and commands go to."""
    _member(ctx)
    if not private_desk.applies(ctx):
        raise Stale()  # with a support group, a case is worked in its topic
    case = await cases.lock_case(ctx.tx, data.case_id)
    if case is None or case.state is not CaseState.ESCALATED:
        raise Stale()
    private_desk.work_on(ctx, case)


@router.button(OpenCases)
async def open_cases(ctx: Context, _data: OpenCases) -> None:
    """ "Switch case": the open escalations, each with its button."""
    await queue(ctx, "")


@router.command("take")
async def take(ctx: Context, _args: str) -> None:
    case, agent = await _escalated(ctx)
    await _take(ctx, case, agent)


@router.in_groups
async def relay_to_buyer(ctx: Context) -> None:
    """An agent's message or photo in a case's topic goes to the buyer, in the shop's name."""
    if ctx.event.chat_id != ctx.shop.support.chat_id or ctx.event.thread_id is None:
        return  # other groups, and the desk's general chat, are not the bot's to answer
    case, agent = await _escalated(ctx)
    await _relay(ctx, case, agent)


router.intercepts(Awaiting.SUPPORT_DESK)  # read by relay_from_private_chat


@router.intercept
async def relay_from_private_chat(ctx: Context) -> bool:
    """With no support group: a member's message or photo in their private chat goes to the
    buyer of the case they work on (handlers/workflow/private_desk.py)."""
    waiting = ctx.conversation.awaiting
    if not private_desk.applies(ctx) or waiting not in (None, Awaiting.SUPPORT_DESK):
        return False  # another step of this chat (a decider's prompt) waits for the text
    agent = _member(ctx)
    case = await private_desk.current_case(ctx)
    if case is None:
        ctx.reply("support/no_case")
        await queue(ctx, "")
    elif case.state is not CaseState.ESCALATED:
        private_desk.leave(ctx, case)  # it left support meanwhile (another member, the buyer)
    else:
        await _relay(ctx, case, agent)
    return True


async def _relay(ctx: Context, case: Case, agent: str) -> None:
    text = (ctx.event.text or ctx.event.caption or "").strip()
    if len(text) > MAX_RELAY:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_RELAY)
        return
    if not text and not ctx.event.photos:
        return
    await _take(ctx, case, agent)
    await _replied(ctx, case)
    await cases.record(
        ctx.tx, case, ctx.now, "agent_message", role=Role.SUPPORT, actor_id=ctx.event.author.id
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/agent_message",
        case=case,
        text=text,
        seller=ctx.seller(case.seller_id),
        photos=[p.file_id for p in ctx.event.photos],
        case_id=case.id,
    )


async def _amount(ctx: Context, args: str, case: Case, limit: Money) -> Money | None:
    try:
        return parse_amount(args, case.order.currency, maximum=limit)
    except AmountError as error:
        ctx.reply("common/amount_error", code=error.code, limit=limit)
        return None


@router.command("offer")
async def offer(ctx: Context, args: str) -> None:
    """/offer 500: a refund offer to the buyer, who accepts or declines it as any offer."""
    case, agent = await _escalated(ctx)
    amount = await _amount(ctx, args, case, case.order.refundable)
    if amount is None:
        return
    await _take(ctx, case, agent)
    await _replied(ctx, case)
    await notify.own_offer(
        ctx, case, Remedy.REFUND, amount, role=Role.SUPPORT, action="support_offer"
    )
    await desk.show_topic(ctx, case, desk.OFFERED)
    desk.to_desk(ctx, case, "support/done", case=case, action="offer", amount=amount, agent=agent)
    private_desk.after(ctx, case)


@router.command("refund")
async def refund(ctx: Context, args: str) -> None:
    """/refund 500: approve a refund within what is refundable; the seller carries it out."""
    case, agent = await _escalated(ctx)
    amount = await _amount(ctx, args, case, case.order.refundable)
    if amount is None:
        return
    await _take(ctx, case, agent)
    await _replied(ctx, case)
    earlier = len(await ledger.refunds_of_case(ctx.tx, case.id))
    # The agreement replaces any offer still waiting for the seller or the buyer.
    await offers.supersede(ctx.tx, case.id, ctx.now)
    await agreement.agree(
        ctx,
        case,
        amount=amount,
        key=f"support:{case.id}:{earlier + 1}",
        role=Role.SUPPORT,
        note=f"approved by {agent}",
    )
    await desk.show_topic(ctx, case, desk.RESOLVED)
    desk.to_desk(ctx, case, "support/done", case=case, action="refund", amount=amount, agent=agent)
    private_desk.after(ctx, case)


@router.command("handback")
async def hand_back(ctx: Context, _args: str) -> None:
    """The bot takes the case over again, where it was before the escalation."""
    case, agent = await _escalated(ctx)
    await _replied(ctx, case)
    await promises.end_conversation(ctx.tx, case.id, ctx.now)
    pending = await offers.current(ctx.tx, case.id)
    case.taken_by = case.taken_by_name = None
    await cases.record(
        ctx.tx, case, ctx.now, "handed_back", role=Role.SUPPORT, actor_id=ctx.event.author.id
    )
    waiting_seller = pending is not None and pending.status is OfferStatus.PENDING_SELLER
    owed = await agreement.still_owed(ctx, case)
    due, buttons, wizard = None, want_keyboard(case, WANTS), None
    if case.escalated_from is CaseState.AWAITING_SELLER and waiting_seller:
        cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
        buttons = []
        due = await promising.promise(ctx, case, PromiseKind.SELLER_DECISION)
    elif case.escalated_from is CaseState.RETURN_IN_TRANSIT and owed is None:
        # The item is on its way back: the seller inspects it when it arrives.
        cases.move(case, CaseState.RETURN_IN_TRANSIT, ctx.now)
        buttons = []
        due = await promising.promise(ctx, case, PromiseKind.RETURN_INSPECTION)
    elif owed is not None:
        # What was agreed is still to be done: the case waits for the seller's "done", not for
        # a new request from the buyer.
        cases.move(case, CaseState.EXECUTING, ctx.now)
        buttons = []
    elif case.kind is CaseKind.PROBLEM and case.reason is not None:
        # A described problem starts again from what the buyer wants, under the policy.
        cases.move(case, CaseState.WANT, ctx.now)
        case.want, case.claimed_minor = None, None
    else:
        # A case handed over before it had a reason, a return or a cancellation: the bot asks
        # the question of the step the buyer left (docs/conversations-cases.md).
        cases.move(case, resumed_at(case.escalated_from), ctx.now)
        buttons = []
        wizard = advance
    card = await cards.current_card(ctx.tx, case)
    if card is not None:
        cards.show(ctx, case, card)  # the seller's next tap, one message away
    ctx.to_buyer(
        case.buyer,
        "buyer/handed_back",
        case=case,
        due=due,
        case_id=case.id,
        buttons=buttons,
        resumed=wizard is not None,
        **agreement.owed_variables(owed),
    )
    if wizard is not None:
        await wizard(ctx, case)
    await desk.show_topic(ctx, case, desk.HANDED_BACK)
    desk.to_desk(ctx, case, "support/done", case=case, action="handback", amount=None, agent=agent)
    private_desk.after(ctx, case)


def resumed_at(left: CaseState | None) -> CaseState:
    """Where the wizard takes up a case handed back from support: the step the buyer left, or,
    once the return instructions were given, those instructions again."""
    if left in cases.DRAFT_STATES or left is CaseState.RETURN_SHIPPING:
        return left
    if left is CaseState.RETURN_TRACKING:
        return CaseState.RETURN_SHIPPING
    return CaseState.REASON


@router.command("resolve")
async def resolve(ctx: Context, args: str) -> None:
    case, agent = await _escalated(ctx)
    await _replied(ctx, case)
    await promises.end_conversation(ctx.tx, case.id, ctx.now)
    note = args.strip()[:MAX_RELAY]
    # Support's part ends here; a refund or shipment agreed earlier is still the seller's to do.
    owed = await agreement.still_owed(ctx, case)
    cases.move(case, agreement.end_state(owed, CaseState.RESOLVED), ctx.now)
    aftersales.resolved(ctx, case)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "resolved_by_support",
        role=Role.SUPPORT,
        actor_id=ctx.event.author.id,
        note=note,
    )
    ctx.to_buyer(
        case.buyer,
        "buyer/resolved",
        case=case,
        note=note,
        case_id=case.id,
        **agreement.owed_variables(owed),
    )
    await desk.show_topic(ctx, case, desk.RESOLVED)
    desk.to_desk(ctx, case, "support/done", case=case, action="resolve", amount=None, agent=agent)
    private_desk.after(ctx, case)


@router.command("queue", "switch")
async def queue(ctx: Context, _args: str) -> None:
    """Open escalations, most urgent first, with when each is due; in a member's private chat
    with no group, each with the button to work on it ("switch case")."""
    _member(ctx)
    rows = await cases.escalated_with_due(ctx.tx, limit=QUEUE_SIZE)
    buttons = (
        private_desk.pick_buttons([case for case, _ in rows]) if private_desk.applies(ctx) else ()
    )
    ctx.reply("support/queue", entries=rows, buttons=buttons)


@router.command("rebind")
async def rebind(ctx: Context, args: str) -> None:
    """Give an order to another Telegram account, when the wrong one claimed it first
    (docs/claiming.md): `/rebind NUMBER TELEGRAM_ID`."""
    _member(ctx)
    parts = args.split()
    found = await orders.orders_by_number(ctx.tx, parts[0]) if len(parts) == 2 else []
    if len(found) != 1 or not parts[1].isdigit() or not 0 < int(parts[1]) < 2**63:
        ctx.reply("support/rebound", rebound=False)
        return
    order, telegram_id = found[0], int(parts[1])
    before = order.buyer_id
    await claims.rebind(ctx.tx, order, telegram_id, ctx.now)
    audit.record(
        ctx.tx,
        ctx.now,
        actor_id=ctx.event.author.id,
        action="claim.rebound",
        target=f"order:{order.id}",
        allowed=True,
        detail={"from": before, "to": telegram_id},
    )
    ctx.reply("support/rebound", rebound=True, number=order.number, telegram_id=telegram_id)
