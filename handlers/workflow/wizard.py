"""The buyer's wizard: ask the next thing a case lacks, in the policy's order.

What is wrong -> which item, how many -> what the buyer wants -> the amount (for a price
difference) -> photos, with the reason they help -> the standard offer. Every answer handler
stores one fact and calls `advance`, which works out the next question from the case itself, so
a buyer who types where a button was expected simply gets the same question again.
"""

from __future__ import annotations

from typing import Any

from bot.domain.enums import (
    CANCEL_REASONS,
    CaseKind,
    CaseState,
    ItemCondition,
    OfferStatus,
    PromiseKind,
    Reason,
    Remedy,
    Role,
    Want,
)
from bot.domain.money import Money
from bot.domain.offers import (
    CaseFacts,
    EarlierRequest,
    NoStandardOffer,
    return_window,
    standard_offer,
)
from bot.domain.policy import Policy
from bot.engine.context import Context, Keyboard, button, column
from bot.services import cases, offers, promises
from bot.storage.models import Case
from handlers.payloads import (
    CancelOrder,
    ChangeReason,
    PhotosDone,
    PickCondition,
    PickItem,
    PickQuantity,
    PickReason,
    PickWant,
    ReturnSent,
)
from handlers.workflow import cards, notify, promising
from handlers.workflow.awaiting import Awaiting
from handlers.workflow.proposals import propose

BUYER = Role.BUYER
WANTS = (Want.KEEP, Want.REPLACE, Want.RETURN, Want.ANSWER)
# Reasons about the whole order rather than one item of it.
ORDER_LEVEL = (Reason.LATE_DELIVERY,)
# Reasons where the amount comes from the buyer, so "how many" adds nothing.
NO_QUANTITY = (Reason.PRICE_ERROR, Reason.OTHER, Reason.LATE_DELIVERY)
MAX_QUANTITY_BUTTONS = 8
MAX_QUESTION = 2000  # one message of the buyer's
MAX_QUESTION_TOTAL = 4 * MAX_QUESTION  # the question with what the buyer added to it


def claim_limit(case: Case) -> Money:
    """The most a buyer may state as overcharged: the affected items' value, but never more
    than the ledger still holds for the order (earlier refunds count), the same limit the
    prompt shows and the answer is checked against."""
    return case.affected_value.min(case.order.refundable)


def policy_of(ctx: Context, case: Case) -> Policy:
    return ctx.seller(case.seller_id).policy


def reasons_for(ctx: Context, case: Case) -> list[Reason]:
    policy = policy_of(ctx, case)
    match case.kind:
        case CaseKind.RETURN:
            return list(policy.return_reasons)
        case CaseKind.CANCEL:
            return list(CANCEL_REASONS)
        case _:
            return [r for r in policy.offered_reasons() if r is not Reason.CHANGED_MIND]


def facts(case: Case, earlier: tuple[EarlierRequest, ...] = ()) -> CaseFacts:
    """The facts the policy's offer comes from; asked once the buyer chose a reason."""
    assert case.reason is not None
    want = Want.RETURN if case.kind is CaseKind.RETURN else (case.want or Want.KEEP)
    return CaseFacts(
        reason=case.reason,
        want=want,
        affected_value=case.affected_value,
        refundable=case.order.refundable,
        claimed=case.claimed,
        earlier=earlier,
    )


# -- the reason --------------------------------------------------------------------------------


async def choose_reason(ctx: Context, case: Case, reason: Reason, *, typed: bool = False) -> None:
    """Store the buyer's reason and go on. One the bot understood from typed words is said back
    in one line with a button to correct it (docs/understanding.md)."""
    case.reason = reason
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "reason",
        role=BUYER,
        actor_id=ctx.event.author.id,
        reason=reason,
    )
    if typed:
        ctx.reply(
            "buyer/reason_understood",
            reason=reason,
            buttons=[[button("change_reason", ChangeReason(case_id=case.id))]],
        )
    if case.kind is CaseKind.CANCEL and reason is Reason.OTHER:
        # "Other" tells the seller nothing: a few of the buyer's words do.
        ctx.expect(Awaiting.CASE_CANCEL_WHY, case_id=case.id)
        ctx.reply("buyer/ask_cancel_why", case=case)
        return
    await advance(ctx, case)


async def take_typed_reason(ctx: Context, case: Case, reason: Reason | None) -> bool:
    """A reason understood from the buyer's words, if the case is still asking for one and may
    have it (a cancellation has its own list of reasons)."""
    if reason is None or case.state is not CaseState.REASON or case.reason is not None:
        return False
    if reason not in reasons_for(ctx, case):
        return False
    await choose_reason(ctx, case, reason, typed=True)
    return True


async def ask_reason_again(ctx: Context, case: Case) -> None:
    """The buyer corrects the reason: what followed from it is asked again too."""
    case.reason = None
    case.item_id = None
    case.quantity = None
    case.want = None
    case.claimed_minor = None
    case.condition = None
    cases.move(case, CaseState.REASON, ctx.now)
    await cases.record(
        ctx.tx, case, ctx.now, "reason_changed", role=BUYER, actor_id=ctx.event.author.id
    )
    await advance(ctx, case)


# -- the next question -------------------------------------------------------------------------


async def advance(ctx: Context, case: Case) -> None:
    """Ask what the case lacks next, or act once it lacks nothing."""
    order = case.order
    if case.reason is None:
        return await _ask(
            ctx,
            case,
            CaseState.REASON,
            "buyer/ask_reason",
            [
                [button("reason", PickReason(case_id=case.id, reason=r), reason=r)]
                for r in reasons_for(ctx, case)
            ],
        )
    if case.kind is CaseKind.CANCEL:
        return await ask_cancel(ctx, case)
    if case.item_id is None and case.reason not in ORDER_LEVEL:
        if len(order.items) == 1:
            case.item_id = order.items[0].id
        else:
            return await _ask(
                ctx,
                case,
                CaseState.ITEM,
                "buyer/ask_item",
                [
                    [button("item", PickItem(case_id=case.id, item_id=i.id), item=i)]
                    for i in order.items
                ],
            )
    item = case.item
    if case.quantity is None and item is not None:
        if item.quantity == 1 or case.reason in NO_QUANTITY:
            case.quantity = item.quantity if case.reason in NO_QUANTITY else 1
        else:
            top = min(item.quantity, MAX_QUANTITY_BUTTONS)
            return await _ask(
                ctx,
                case,
                CaseState.QUANTITY,
                "buyer/ask_quantity",
                [
                    [
                        button("quantity", PickQuantity(case_id=case.id, quantity=n), n=n)
                        for n in range(1, top + 1)
                    ]
                ],
                item=item,
            )
    if case.kind is CaseKind.PROBLEM:
        return await _advance_problem(ctx, case)
    return await _advance_return(ctx, case)


async def ask_cancel(ctx: Context, case: Case) -> None:
    """Before shipping: confirm and refund in full. On the way: refuse it at delivery, or keep
    it, with the policy's discount for keeping it when there is one (docs/conversations.md)."""
    keyboard, variables = cancel_choices(ctx, case)
    return await _ask(
        ctx, case, CaseState.CANCEL_CONFIRM, "buyer/ask_cancel", keyboard, **variables
    )


def cancel_choices(ctx: Context, case: Case) -> tuple[Keyboard, dict[str, Any]]:
    """The buttons for cancelling the case's order as it stands, and what the question says."""
    order = case.order
    discount = policy_of(ctx, case).keep_order_discount
    if order.status.before_shipping:
        rows = [["confirm", "keep"]]
    else:
        rows = [["refuse"], ["discount"] if discount else [], ["keep"]]
    keyboard = [
        [
            button(f"cancel_{a}", CancelOrder(case_id=case.id, action=a), percent=discount)
            for a in row
        ]
        for row in rows
    ]
    return keyboard, {"refund": order.refundable, "percent": discount}


async def _advance_problem(ctx: Context, case: Case) -> None:
    if case.want is None:
        return await _ask(ctx, case, CaseState.WANT, "buyer/ask_want", want_keyboard(case, WANTS))
    if case.want is Want.ANSWER:
        ctx.expect(Awaiting.CASE_QUESTION, case_id=case.id)
        cases.move(case, CaseState.QUESTION, ctx.now)
        ctx.reply("buyer/ask_question", case=case)
        return None
    if case.want is Want.RETURN:
        return await _switch_to_return(ctx, case)
    earlier = await cases.earlier_requests(ctx.tx, case)
    standard = standard_offer(policy_of(ctx, case), facts(case, earlier))
    if isinstance(standard, NoStandardOffer):
        return await _no_standard(ctx, case, standard)
    if standard.remedy is Remedy.CLAIMED and case.claimed_minor is None:
        cases.move(case, CaseState.WANT, ctx.now)
        ctx.expect(Awaiting.CASE_CLAIMED, case_id=case.id)
        ctx.reply("buyer/ask_claimed", case=case, limit=claim_limit(case))
        return None
    if await _needs_photos(ctx, case):
        return None
    return await propose(ctx, case, standard)


async def _advance_return(ctx: Context, case: Case) -> None:
    if case.condition is None:
        return await _ask(
            ctx,
            case,
            CaseState.CONDITION,
            "buyer/ask_condition",
            [
                [button("condition", PickCondition(case_id=case.id, condition=c), condition=c)]
                for c in ItemCondition
            ],
        )
    if await _needs_photos(ctx, case):
        return None
    standard = standard_offer(policy_of(ctx, case), facts(case))
    if isinstance(standard, NoStandardOffer):
        return await _no_standard(ctx, case, standard)
    if case.state is not CaseState.RETURN_SHIPPING:
        await offers.create(
            ctx.tx,
            case,
            remedy=standard.remedy,
            amount=standard.amount,
            status=OfferStatus.ACCEPTED,
            role=Role.POLICY,
            actor_id=None,
            now=ctx.now,
            standard=standard,
        )
        cases.move(case, CaseState.RETURN_SHIPPING, ctx.now)
        await cases.record(
            ctx.tx,
            case,
            ctx.now,
            "return_accepted",
            role=Role.POLICY,
            actor_id=None,
            amount=standard.amount,
        )
    ask_buyer(
        ctx,
        case,
        "buyer/return_instructions",
        case=case,
        order=case.order,
        amount=standard.amount,
        shipping_payer=standard.return_shipping,
        seller=ctx.seller(case.seller_id),
        buttons=column(button("return_sent", ReturnSent(case_id=case.id))),
    )
    return None


async def _switch_to_return(ctx: Context, case: Case) -> None:
    policy = policy_of(ctx, case)
    order = case.order
    assert order.delivered_at is not None
    window = return_window(policy, order.delivered_at, ctx.now)
    if not window.open:
        case.want = None
        return await _ask(
            ctx,
            case,
            CaseState.WANT,
            "buyer/return_window_closed_alternatives",
            want_keyboard(case, (Want.KEEP, Want.REPLACE, Want.ANSWER)),
            closes_at=window.closes_at,
        )
    case.kind = CaseKind.RETURN
    await cases.record(
        ctx.tx, case, ctx.now, "became_return", role=BUYER, actor_id=ctx.event.author.id
    )
    return await _advance_return(ctx, case)


async def _no_standard(ctx: Context, case: Case, standard: NoStandardOffer) -> None:
    """Never a bare no: say what the policy does offer for this reason."""
    case.want = None
    if case.kind is CaseKind.RETURN:
        case.kind = CaseKind.PROBLEM
    alternatives = (*standard.alternatives, Want.ANSWER)
    return await _ask(
        ctx,
        case,
        CaseState.WANT,
        f"buyer/{standard.why}",
        want_keyboard(case, alternatives),
        reason=case.reason,
    )


async def _needs_photos(ctx: Context, case: Case) -> bool:
    assert case.reason is not None
    if case.evidence_done or not policy_of(ctx, case).rule(case.reason).photos:
        return False
    cases.move(case, CaseState.EVIDENCE, ctx.now)
    count = len(await cases.evidence_of(ctx.tx, case.id))
    ask_buyer(
        ctx,
        case,
        "buyer/ask_photos",
        awaiting=Awaiting.CASE_PHOTOS,
        case=case,
        count=count,
        buttons=column(button("photos_done", PhotosDone(case_id=case.id))) if count else (),
    )
    return True


async def _ask(
    ctx: Context,
    case: Case,
    state: CaseState,
    template: str,
    buttons: Keyboard,
    **variables: Any,
) -> None:
    cases.move(case, state, ctx.now)
    ask_buyer(ctx, case, template, case=case, order=case.order, buttons=buttons, **variables)


def ask_buyer(
    ctx: Context,
    case: Case,
    template: str,
    /,
    *,
    awaiting: Awaiting = Awaiting.CASE,
    **variables: Any,
) -> None:
    """The wizard's next question, in the buyer's chat. The buyer's own answer usually asks it;
    support handing a case back asks it too, from the desk: then the buyer's chat keeps what
    it waited for, and the question's buttons carry the case (docs/conversations-cases.md)."""
    if ctx.event.chat_id == case.buyer_id:
        ctx.expect(awaiting, case_id=case.id)
        ctx.reply(template, case_id=case.id, **variables)
    else:
        ctx.to_buyer(case.buyer, template, case_id=case.id, **variables)


def want_keyboard(case: Case, wants: tuple[Want, ...]) -> Keyboard:
    return [[button("want", PickWant(case_id=case.id, want=w), want=w)] for w in wants]


# -- the question for the seller ------------------------------------------------------------


async def send_question(ctx: Context, case: Case, question: str) -> None:
    case.question = question
    cases.move(case, CaseState.AWAITING_SELLER, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "question",
        role=BUYER,
        actor_id=ctx.event.author.id,
    )
    due = await promising.promise(ctx, case, PromiseKind.FIRST_REPLY)
    cards.show(ctx, case, cards.question_card(case, due))
    ctx.expect(Awaiting.CASE, case_id=case.id)
    ctx.reply("buyer/question_sent", case=case, due=due)


async def add_to_question(ctx: Context, case: Case, text: str) -> None:
    """The buyer writes again while their question waits for the seller: the words join the
    question, the deciders see them with the answer button, and the promise stands as made."""
    if len(text) > MAX_QUESTION or len(case.question or "") + len(text) > MAX_QUESTION_TOTAL:
        ctx.reply("common/too_long", length=len(text), max_length=MAX_QUESTION)
        return
    case.question = f"{case.question}\n\n{text}" if case.question else text
    await cases.record(
        ctx.tx, case, ctx.now, "question_added", role=BUYER, actor_id=ctx.event.author.id
    )
    promised = await promises.open_promises(ctx.tx, case.id)
    due = promised[0].due_at if promised else None
    cards.show(ctx, case, cards.question_added_card(case, text, due))
    ctx.expect(Awaiting.CASE, case_id=case.id)
    ctx.reply("buyer/question_added", case=case, due=due)


async def resume(ctx: Context, case: Case) -> None:
    """Say again where the case stands: the buyer typed where a button was expected, or came
    back later."""
    match case.state:
        case state if state in cases.DRAFT_STATES or state is CaseState.RETURN_SHIPPING:
            await advance(ctx, case)
        case CaseState.AWAITING_BUYER:
            offer = await offers.current(ctx.tx, case.id)
            if offer is not None and offer.status is OfferStatus.OFFERED:
                notify.offer_to_buyer(ctx, case, offer)
        case _:
            ctx.expect(None)
            await tell_status(ctx, case)


async def tell_status(ctx: Context, case: Case) -> None:
    """Where the case stands and when the next answer is due ("where is my refund")."""
    due = await promises.open_promises(ctx.tx, case.id)
    ctx.reply("buyer/case_status", case=case, order=case.order, due=due[0].due_at if due else None)
