"""The fixed vocabularies of the domain. Their values are stored in the database and in payloads,
so they are short and never renamed; templates turn them into words."""

from enum import StrEnum


class OrderStatus(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def before_shipping(self) -> bool:
        return self in (OrderStatus.PLACED, OrderStatus.CONFIRMED)

    @property
    def on_the_way(self) -> bool:
        return self in (OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT)

    @property
    def received(self) -> bool:
        return self in (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


class Reason(StrEnum):
    """The playbook's fixed list; reasons drive policy and the monthly analysis."""

    DEFECT = "defect"
    MISSING_ITEMS = "missing_items"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    PRICE_ERROR = "price_error"
    CHANGED_MIND = "changed_mind"
    LATE_DELIVERY = "late_delivery"
    # Why buyers cancel an order before it arrives.
    FOUND_CHEAPER = "found_cheaper"  # the price dropped, or it is cheaper elsewhere
    ORDERED_BY_MISTAKE = "ordered_by_mistake"
    DELIVERY_TOO_LATE = "delivery_too_late"  # the promised delivery date is too late
    OTHER = "other"


# The reasons a cancellation offers (docs/conversations.md#cancel-reasons).
CANCEL_REASONS = (
    Reason.CHANGED_MIND,
    Reason.FOUND_CHEAPER,
    Reason.ORDERED_BY_MISTAKE,
    Reason.DELIVERY_TOO_LATE,
    Reason.OTHER,
)


class Want(StrEnum):
    """What the buyer actually wants, asked before any solution is proposed."""

    KEEP = "keep"  # keep the item, get part of the money back
    REPLACE = "replace"  # a replacement, or the missing part shipped
    RETURN = "return"  # send it back for a refund
    ANSWER = "answer"  # only an explanation
    REFUSE = "refuse"  # cancel an order on its way by refusing it at delivery


class CaseKind(StrEnum):
    PROBLEM = "problem"  # partial refund, replacement or reship after delivery
    RETURN = "return"
    CANCEL = "cancel"


class CaseState(StrEnum):
    # the buyer is telling the bot about the case
    REASON = "reason"
    ITEM = "item"
    QUANTITY = "quantity"
    WANT = "want"
    QUESTION = "question"
    CONDITION = "condition"
    EVIDENCE = "evidence"
    CANCEL_CONFIRM = "cancel_confirm"
    # Somebody owes an answer.
    AWAITING_SELLER = "awaiting_seller"
    AWAITING_BUYER = "awaiting_buyer"
    DECLINE_REASON = "decline_reason"
    # Returns.
    RETURN_SHIPPING = "return_shipping"
    RETURN_TRACKING = "return_tracking"
    RETURN_IN_TRANSIT = "return_in_transit"
    # After agreement.
    EXECUTING = "executing"
    # A reshipment or replacement is on its way: the case ends when it arrives
    # (docs/offers-and-promises.md#reshipments).
    AWAITING_DELIVERY = "awaiting_delivery"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"  # withdrawn by the buyer or ended without a remedy

    @property
    def is_open(self) -> bool:
        return self not in (CaseState.RESOLVED, CaseState.CLOSED)


class ItemSettlement(StrEnum):
    """What becomes of the item a replacement replaces (docs/offers-and-promises.md#reshipments)."""

    KEEP = "keep"  # the buyer keeps it
    RETURN = "return"  # the buyer sends it back, at the seller's cost; no refund is due for it


class ItemCondition(StrEnum):
    UNUSED = "unused"
    USED = "used"
    DAMAGED = "damaged"


class Remedy(StrEnum):
    PERCENT = "percent"  # a share of the affected items' price, the buyer keeps them
    FIXED = "fixed"  # a fixed compensation
    REPLACEMENT = "replacement"  # a new item is sent
    RESHIP = "reship"  # the missing part is sent
    RETURN_FULL = "return_full"  # send it back for the affected items' full price
    CLAIMED = "claimed"  # the buyer states the amount (a price difference), capped by the items
    REFUND = "refund"  # an amount agreed outside the standard (seller's change, alternative)
    COUPON = "coupon"  # store credit instead of money

    @property
    def moves_money(self) -> bool:
        return self in (
            Remedy.PERCENT,
            Remedy.FIXED,
            Remedy.CLAIMED,
            Remedy.RETURN_FULL,
            Remedy.REFUND,
        )


class OfferStatus(StrEnum):
    PENDING_SELLER = "pending_seller"
    OFFERED = "offered"  # approved by the seller or the policy, waiting for the buyer
    ACCEPTED = "accepted"
    DECLINED = "declined"  # by the buyer
    REFUSED = "refused"  # by the seller, replaced by an alternative
    CHANGED = "changed"  # by the seller, replaced by another amount
    WITHDRAWN = "withdrawn"  # the case ended another way
    SUPERSEDED = "superseded"  # replaced by a later offer on the case before anyone decided


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    SUPPORT = "support"
    POLICY = "policy"  # the seller's standard, applied by the bot
    SYSTEM = "system"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    EXECUTED = "executed"
    FAILED = "failed"

    @property
    def counts(self) -> bool:
        """Whether the refund uses up part of what was paid."""
        return self is not RefundStatus.FAILED


class PromiseKind(StrEnum):
    FIRST_REPLY = "first_reply"
    SELLER_DECISION = "seller_decision"
    REFUND_EXECUTION = "refund_execution"
    FULFILMENT = "fulfilment"  # a replacement, a missing part or a coupon is owed
    RETURN_INSPECTION = "return_inspection"
    SUPPORT_REPLY = "support_reply"
    FOLLOW_UP = "follow_up"  # the seller answers a buyer who rated the case 1 or 2


class PromiseState(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BREACHED = "breached"
    CLOSED = "closed"  # the case was resolved another way


class EscalationReason(StrEnum):
    BREACH = "breach"
    BUYER_ASKED = "buyer_asked"
    FINAL_OFFER_REFUSED = "final_offer_refused"
    SELLER_NO_ALTERNATIVE = "seller_no_alternative"
    OVER_THRESHOLD = "over_threshold"
    RETURN_HISTORY = "return_history"
    DEDUCTION_DISPUTED = "deduction_disputed"  # the buyer disputes a return inspection's deduction
    NOT_DELIVERED = "not_delivered"  # a shipped reshipment or replacement has not arrived
