"""What a chat waits for next: the values of its `conversations.awaiting` column.

The strings are stored in the database, so a member's value never changes once released: a
chat waiting in it before an upgrade is still answered after it."""

from __future__ import annotations

from enum import StrEnum

from bot.engine.router import Router


class Awaiting(StrEnum):
    CASE = "case"  # a button of the case's current step (typed words get the question again)
    CASE_QUESTION = "case.question"  # the buyer's question for the seller
    CASE_CLAIMED = "case.claimed"  # the amount the buyer was overcharged
    CASE_PHOTOS = "case.photos"  # photos of the problem
    CASE_TRACKING = "case.tracking"  # a returned parcel's tracking number
    CASE_DECLINE_REASON = "case.decline_reason"  # why the buyer declines an offer
    CASE_CANCEL_WHY = "case.cancel_why"  # the buyer's words for "Other" as a reason to cancel
    CASE_RATING_COMMENT = "case.rating_comment"  # the buyer's comment on their rating
    ORDER_NUMBER = "order_number"  # an order's number, typed instead of picked
    CLAIM_CHECK = "claim.check"  # the check that a typed order nobody has claimed is theirs
    SELLER_AMOUNT = "seller.amount"  # a decider's amount for an offer
    SELLER_ANSWER = "seller.answer"  # a decider's answer to the buyer's question
    SELLER_DEDUCTION = "seller.deduction"  # the amount deducted at a return's inspection
    SELLER_DEDUCTION_REASON = "seller.deduction_reason"  # and why
    SELLER_REFUND_FAILED = "seller.refund_failed"  # why a refund sent did not go through
    SELLER_TRACKING = "seller.tracking"  # the tracking number of an item shipped again
    SELLER_RATING_ANSWER = "seller.rating_answer"  # a decider's answer to a low rating
    SELLER_OZON_AMOUNT = "seller.ozon_amount"  # a partial refund on Ozon, the buyer keeps it
    SELLER_OZON_COMMENT = "seller.ozon_comment"  # the comment Ozon needs with a rejection
    SUPPORT_DESK = "support_desk"  # a member works a case from their private chat


class UnreadStateError(RuntimeError):
    """A chat could be left waiting in a state no handler reads: whatever the person typed
    next would get the buyer's menu, not the step they were asked for."""


def check_read(router: Router) -> None:
    """Fail at start-up, not in a conversation, when a state has no handler reading it."""
    unread = [state.value for state in Awaiting if not router.reads(state)]
    if unread:
        raise UnreadStateError(f"no handler reads the chat state(s) {', '.join(unread)}")
