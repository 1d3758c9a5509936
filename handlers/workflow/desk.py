"""Escalation, and the topic a case is worked in.

Escalating hands the case to support: the bot stops deciding, the buyer is told who answers
and by when (a promise owned by support, on support's calendar), and the case gets a topic in
the support group, named with its order and where it stands, opened with a summary of
everything so far. A case escalated again reopens its topic."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.enums import CaseState, EscalationReason, PromiseKind, Role
from bot.domain.policy import ReturnHistory
from bot.engine.context import Context, button, column
from bot.rendering import plain_text
from bot.services import cases, ledger, offers, promises, topics
from bot.services.history import of_buyer
from bot.storage.models import Case
from handlers.payloads import Take
from handlers.workflow import private_desk, promising

# Where a case stands on the desk, as its topic's name shows it.
WAITING, TAKEN, DUE_SOON, BREACHED, OFFERED, HANDED_BACK, RESOLVED = (
    "waiting",
    "taken",
    "due_soon",
    "breached",
    "offered",
    "handed_back",
    "resolved",
)


async def escalate(ctx: Context, case: Case, reason: EscalationReason, *, role: Role) -> None:
    """Hand the case to support, with the reason, the summary and a new promise to the buyer.
    Promises of the conversation's next step end here; what was agreed stays owed."""
    await promises.end_conversation(ctx.tx, case.id, ctx.now)
    if case.state is not CaseState.ESCALATED:
        case.escalated_from = case.state
        case.taken_by = None
        case.taken_by_name = None
    # Already with support (a refund owed by the seller fell due meanwhile): the agent who
    # took the case keeps it.
    case.escalation_reason = reason
    cases.move(case, CaseState.ESCALATED, ctx.now)
    await cases.record(
        ctx.tx,
        case,
        ctx.now,
        "escalated",
        role=role,
        actor_id=ctx.event.author.id or None,
        reason=reason.value,
    )
    due = await promising.promise(ctx, case, PromiseKind.SUPPORT_REPLY, owner=Role.SUPPORT)
    status = BREACHED if reason is EscalationReason.BREACH else WAITING
    await show_topic(ctx, case, status)
    await post_summary(ctx, case, reason, due)
    ctx.to_buyer(
        case.buyer,
        "buyer/escalated",
        case=case,
        escalation=reason,
        due=due,
        case_id=case.id,
    )
    ctx.to_deciders(
        case.seller_id,
        "seller/escalated",
        case=case,
        order=case.order,
        escalation=reason,
        case_id=case.id,
    )


async def show_topic(ctx: Context, case: Case, status: str) -> None:
    """Open the case's topic, or reopen and rename it, so its name says `status`."""
    chat = ctx.shop.support.chat_id
    if chat is None:
        return
    agent = case.taken_by_name or ""
    # A topic's name is plain text, not HTML: "Sam & Co", not "Sam &amp; Co".
    name = plain_text(
        ctx.render(
            "support/topic_name", ctx.support_reader(), case=case, status=status, agent=agent
        )
    )
    topic = await topics.topic_of_case(ctx.tx, case.id)
    if topic is None:
        topics.open_topic(ctx.tx, case.id, chat, name, ctx.now)
        ctx.topic_action(chat, "topic_open", name, case_id=case.id)
        return
    if topic.closed and status != RESOLVED:
        topic.closed = False
        ctx.topic_action(chat, "topic_reopen", name, case_id=case.id)
    if topic.name != name:
        topic.name = name
        ctx.topic_action(chat, "topic_rename", name, case_id=case.id)
    if status == RESOLVED and not topic.closed:
        topic.closed = True
        ctx.topic_action(chat, "topic_close", name, case_id=case.id)


def to_desk(ctx: Context, case: Case, template: str, /, **variables: object) -> None:
    """A message in the case's topic, or, with no support group configured, to each member's
    private chat: there it names the case (`in_private`), and while the case is with support
    it carries the button to work on it from that chat (handlers/workflow/private_desk.py)."""
    support = ctx.shop.support
    reader = ctx.support_reader()
    in_private = support.chat_id is None
    if in_private and "buttons" not in variables and case.state is CaseState.ESCALATED:
        variables["buttons"] = private_desk.pick_buttons([case])
    targets = (
        [(m.telegram_id, None) for m in support.members]
        if support.chat_id is None
        else [(support.chat_id, case.id)]
    )
    for chat_id, topic_of in targets:
        ctx.send(
            chat_id,
            reader,
            template,
            topic_of=topic_of,
            case_id=case.id,
            in_private=in_private,
            **variables,  # type: ignore[arg-type]
        )


async def post_summary(ctx: Context, case: Case, reason: EscalationReason, due: object) -> None:
    history = await cases.history_of(ctx.tx, case.id)
    evidence = await cases.evidence_of(ctx.tx, case.id)
    proposed = await offers.all_of_case(ctx.tx, case.id)
    decisions = await offers.decisions_of(ctx.tx, case.id)
    refunds = await ledger.refunds_of_case(ctx.tx, case.id)
    past = await of_buyer(ctx.tx, case, period=_history_period(ctx, case), now=ctx.now)
    to_desk(
        ctx,
        case,
        "support/summary",
        case=case,
        order=case.order,
        escalation=reason,
        due=due,
        history=history,
        evidence=evidence,
        offers=proposed,
        decisions=decisions,
        refunds=refunds,
        past=past,
        photos=[e.file_id for e in evidence],
        buttons=column(button("take", Take(case_id=case.id))),
    )


def _history_period(ctx: Context, case: Case) -> timedelta:
    """The period the seller's return-history rule weighs, or its default."""
    rule = ctx.seller(case.seller_id).policy.escalation.return_history
    return (rule or ReturnHistory()).period
