"""What the fake Ozon server holds: plain dataclasses the tests fill (docs/testing.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# Every method of the fake, for the default role that allows them all.
METHODS = (
    "/v4/posting/fbs/list",
    "/v2/returns/rfbs/list",
    "/v2/returns/rfbs/get",
    "/v1/returns/rfbs/action/set",
    "/v1/returns/list",
    "/v2/conditional-cancellation/list",
    "/v2/conditional-cancellation/approve",
    "/v2/conditional-cancellation/reject",
    "/v1/roles",
)


@dataclass
class FakeProduct:
    sku: int
    offer_id: str
    name: str
    quantity: int = 1
    price: str = "0"  # Ozon's string form; the server can answer it as a number too
    currency_code: str = "RUB"


@dataclass
class FakePosting:
    posting_number: str
    order_number: str
    order_id: int
    status: str
    in_process_at: datetime
    products: list[FakeProduct]
    tracking_number: str = ""
    shipment_date: datetime | None = None
    delivering_date: datetime | None = None
    customer_name: str = ""
    # When the status last changed (the `last_changed_status_date` filter reads it).
    status_changed_at: datetime | None = None
    # Anything that replaces the posting's JSON fields as sent (a bad posting, say).
    override: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transition:
    """What an action does to a return: its new state, and the actions it then offers."""

    state: str
    state_name: str
    group_state: str
    then: list[tuple[int, str]] = field(default_factory=list)
    money_return_state_name: str = ""


@dataclass
class FakeRfbsReturn:
    return_id: int
    posting_number: str
    order_number: str
    product: FakeProduct
    created_at: datetime
    return_number: str = ""
    client_name: str = ""
    group_state: str = "New"
    # Ozon's `state.state` (named so that only cases have a `state` that changes: the
    # storage-door test checks that).
    return_state: str = "new"
    state_name: str = "Новая"
    money_return_state_name: str = ""
    available_actions: list[tuple[int, str]] = field(default_factory=list)
    # Each one as its id, name, hint and whether it needs a comment.
    rejection_reasons: list[tuple[int, str, str, bool]] = field(default_factory=list)
    return_reason: tuple[int, str, bool] = (1, "Брак", True)
    client_photo: list[str] = field(default_factory=list)
    comment: str = ""
    return_method_description: str = ""
    ru_post_tracking_number: str = ""
    # What each action id does; an action without one leaves the return with no actions.
    transitions: dict[int, Transition] = field(default_factory=dict)
    # Every accepted action/set body, in order.
    actions_taken: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeReturn:
    """An FBO/FBS return (/v1/returns/list), read-only."""

    id: int
    posting_number: str
    order_number: str
    product: FakeProduct
    schema: Literal["FBS", "FBO"] = "FBS"
    type: str = "ClientReturn"
    return_reason_name: str = ""
    return_date: datetime | None = None
    status_sys_name: str = "OnSellerApproval"
    status_display_name: str = "На согласовании у продавца"
    status_changed_at: datetime | None = None


@dataclass
class FakeCancellation:
    cancellation_id: int
    posting_number: str
    cancelled_at: datetime
    reason_id: int = 1
    reason_name: str = "Покупатель передумал"
    reason_message: str = ""
    initiator: str = "CLIENT"
    cancellation_state: str = "ON_APPROVAL"  # Ozon's `state.state`
    auto_approve_date: datetime | None = None
    approve_comment: str = ""


@dataclass
class FakeRole:
    name: str
    methods: list[str]
    expires_at: datetime | None = None


@dataclass
class FakeSeller:
    client_id: str
    api_key: str
    roles: list[FakeRole] = field(default_factory=lambda: [FakeRole("Admin", list(METHODS))])
    postings: list[FakePosting] = field(default_factory=list)
    rfbs_returns: list[FakeRfbsReturn] = field(default_factory=list)
    returns: list[FakeReturn] = field(default_factory=list)
    cancellations: list[FakeCancellation] = field(default_factory=list)

    def allows(self, method: str) -> bool:
        return any(method in role.methods for role in self.roles)

    def rfbs_return(self, return_id: int) -> FakeRfbsReturn | None:
        return next((r for r in self.rfbs_returns if r.return_id == return_id), None)

    def cancellation(self, cancellation_id: int) -> FakeCancellation | None:
        return next((c for c in self.cancellations if c.cancellation_id == cancellation_id), None)


@dataclass(frozen=True)
class Fault:
    """An answer the server gives instead of the method's (tests flip these on)."""

    status: int
    code: int = 0
    message: str = ""
    hang: bool = False  # answer nothing until the client gives up


RATE_LIMIT = Fault(429, 8, "You have reached request rate limit per second")
CIRCLE_OPEN = Fault(429, 8, "Circle is open")
SERVER_ERROR = Fault(500, 13, "internal error")
UNAVAILABLE = Fault(503, 14, "Service Unavailable")
HANG = Fault(0, hang=True)
