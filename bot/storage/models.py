"""Tables. Money is integer minor units beside its currency; time is aware UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.enums import (
    CaseKind,
    CaseState,
    EscalationReason,
    ItemCondition,
    ItemSettlement,
    OfferStatus,
    OrderStatus,
    PromiseKind,
    PromiseState,
    Reason,
    RefundStatus,
    Remedy,
    Role,
    Want,
)
from bot.domain.money import Money
from bot.storage.types import Json, StrEnumType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _partial(name: str, column: str, where: str) -> Index:
    """An index of only the rows `where` holds (both databases take the same condition): the
    retention sweep (bot/services/retention.py) finds what is left to remove without reading
    what it removed before."""
    return Index(name, column, sqlite_where=sql_text(where), postgresql_where=sql_text(where))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: Json}


# -- parties -----------------------------------------------------------------------------------


class Seller(Base):
    """Mirrors the shop config; kept in the database so orders and cases can refer to it."""

    __tablename__ = "sellers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    deciders: Mapped[list[Decider]] = relationship(
        back_populates="seller", cascade="all, delete-orphan", lazy="selectin"
    )


class Decider(Base):
    """A Telegram user allowed to approve, change or refuse a seller's offers."""

    __tablename__ = "deciders"

    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    seller: Mapped[Seller] = relationship(back_populates="deciders")


class SupportMember(Base):
    __tablename__ = "support_members"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Buyer(Base):
    __tablename__ = "buyers"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Chosen with /language; until then the Telegram client's language code decides.
    language: Mapped[str | None] = mapped_column(String(8))
    language_code: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


# -- orders ------------------------------------------------------------------------------------


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("seller_id", "marketplace", "number"),
        # The monthly report's revenue: a seller's orders placed in the month
        # (bot/services/report.py), a range of this index rather than the whole table.
        Index("ix_orders_seller_placed", "seller_id", "placed_at"),
        # The last line of defence of the refund rule: whatever the code does, the database
        # refuses a total of refunds above what the buyer paid.
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
        CheckConstraint(
            "refunded_minor <= paid_minor + shipping_minor", name="refunded_within_paid"
        ),
        CheckConstraint("paid_minor >= 0 AND shipping_minor >= 0", name="paid_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), index=True)
    marketplace: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.telegram_id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    paid_minor: Mapped[int] = mapped_column(BigInteger)  # paid for the items
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # paid for shipping
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[OrderStatus] = mapped_column(StrEnumType(OrderStatus))
    placed_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    # From a marketplace's API (docs/ozon.md): `number` is then the shipment's own (Ozon's
    # posting number), `order_number` the order it belongs to as the buyer sees it, and
    # `marketplace_status` the marketplace's word for where it is (`status` is ReturnDesk's).
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    marketplace_status: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    # An order imported without a Telegram id has no buyer until someone claims it
    # (docs/claiming.md): what the import said of its buyer waits here for the cards and the
    # claimant, and the checks are HMACs under RETURNDESK_LINK_SECRET, never the digits.
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_language: Mapped[str | None] = mapped_column(String(8))
    buyer_timezone: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    postal_hash: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    link_made_at: Mapped[datetime | None]  # `returndesk links` made its card (for --all-new)

    # Read-only, and loaded only where a query asks for it: a case opened on the order names
    # its buyer.
    buyer: Mapped[Buyer | None] = relationship(lazy="raise", viewonly=True)
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="OrderItem.position",
    )

    @property
    def paid_total(self) -> Money:
        """Everything the buyer paid: the items and the shipping."""
        return Money.from_minor(self.paid_minor + self.shipping_minor, self.currency)

    @property
    def refunded(self) -> Money:
        return Money.from_minor(self.refunded_minor, self.currency)

    @property
    def refundable(self) -> Money:
        return Money.from_minor(
            self.paid_minor + self.shipping_minor - self.refunded_minor, self.currency
        )

    def item(self, item_id: int | None) -> OrderItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def value_of(self, item: OrderItem | None, quantity: int | None) -> Money:
        """What the buyer paid for `quantity` of `item` (all items when None).

        List prices are scaled down to what was actually paid, so a discounted order never
        yields more back than the buyer put in."""
        list_total = sum(i.unit_price_minor * i.quantity for i in self.items)
        if item is None:
            share = list_total
        else:
            share = item.unit_price_minor * min(quantity or item.quantity, item.quantity)
        if list_total > self.paid_minor and list_total > 0:
            share = share * self.paid_minor // list_total
        return Money.from_minor(share, self.currency)


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sku: Mapped[str] = mapped_column(String(64))
    offer_id: Mapped[str | None] = mapped_column(String(64))  # the seller's own article
    title: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def unit_price(self) -> Money:
        return Money.from_minor(self.unit_price_minor, self.order.currency)


class MarketplaceSync(Base):
    """Where a seller's pull of orders from a marketplace's API stands (docs/ozon.md).

    `synced_until` is the end of the last pull that finished; while one is under way, its window
    and the cursor of the next page are kept here after every page, so a pull cut short by a
    crash or a restart resumes from that page instead of starting over."""

    __tablename__ = "marketplace_syncs"

    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(32), primary_key=True)
    synced_until: Mapped[datetime | None]
    window_since: Mapped[datetime | None]
    window_to: Mapped[datetime | None]
    changed_since: Mapped[datetime | None]
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)


class MarketplaceReject(Base):
    """A record from a marketplace's API that could not be taken in, set aside with why; it is
    deleted when a later pull takes the same record in (docs/ozon.md)."""

    __tablename__ = "marketplace_rejects"
    __table_args__ = (UniqueConstraint("seller_id", "marketplace", "record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    marketplace: Mapped[str] = mapped_column(String(32))
    record: Mapped[str] = mapped_column(String(128))  # what names it: Ozon's posting number
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]  # the record as the API sent it
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


# -- cases -------------------------------------------------------------------------------------


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        _partial("ix_cases_to_mask", "closed_at", "masked_at IS NULL AND closed_at IS NOT NULL"),
        # The monthly report (bot/services/report.py): a seller's cases opened in the month,
        # and those rated in it (only rated cases are in the second index).
        Index("ix_cases_seller_created", "seller_id", "created_at"),
        Index(
            "ix_cases_seller_rated",
            "seller_id",
            "rated_at",
            sqlite_where=sql_text("rated_at IS NOT NULL"),
            postgresql_where=sql_text("rated_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # None: a case a marketplace opened for a buyer who is not in Telegram (docs/ozon.md); the
    # bot then tells nobody but the seller.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.telegram_id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), index=True)
    kind: Mapped[CaseKind] = mapped_column(StrEnumType(CaseKind))
    state: Mapped[CaseState] = mapped_column(StrEnumType(CaseState), index=True)
    reason: Mapped[Reason | None] = mapped_column(StrEnumType(Reason))
    want: Mapped[Want | None] = mapped_column(StrEnumType(Want))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id"))
    quantity: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[ItemCondition | None] = mapped_column(StrEnumType(ItemCondition))
    claimed_minor: Mapped[int | None] = mapped_column(BigInteger)
    question: Mapped[str | None] = mapped_column(Text)
    return_tracking: Mapped[str | None] = mapped_column(String(64))
    # What the seller shipped again or as a replacement (docs/offers-and-promises.md#reshipments).
    reship_tracking: Mapped[str | None] = mapped_column(String(64))
    # When a shipped reshipment counts as delivered if the buyer has not said so; the sweeper
    # resolves the case then.
    delivery_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # What the seller decided for the item a replacement replaces: settled once.
    item_settlement: Mapped[ItemSettlement | None] = mapped_column(StrEnumType(ItemSettlement))
    evidence_done: Mapped[bool] = mapped_column(Boolean, default=False)
    buyer_declines: Mapped[int] = mapped_column(Integer, default=0)
    escalation_reason: Mapped[EscalationReason | None] = mapped_column(
        StrEnumType(EscalationReason)
    )
    # Where the case was when support took it over, so a hand-back can return it there.
    escalated_from: Mapped[CaseState | None] = mapped_column(StrEnumType(CaseState))
    taken_by: Mapped[int | None] = mapped_column(BigInteger)  # the support member working it
    taken_by_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The satisfaction survey (docs/aftersales.md): when the sweeper asks it (set at the
    # resolution, from the seller's policy), when it did (once), and the buyer's answer.
    survey_due_at: Mapped[datetime | None] = mapped_column(index=True)
    surveyed_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    # When its texts and its buyer's name were masked, past retention or at an erasure
    # (docs/privacy.md); amounts, reasons and dates stay.
    masked_at: Mapped[datetime | None]

    # Read-only: a case is written through its foreign keys, so a flush of a changed case need
    # not walk the order, its items and the buyer for changes.
    order: Mapped[Order] = relationship(lazy="joined", viewonly=True)
    buyer: Mapped[Buyer | None] = relationship(lazy="joined", viewonly=True)

    @property
    def item(self) -> OrderItem | None:
        return self.order.item(self.item_id)

    @property
    def affected_value(self) -> Money:
        return self.order.value_of(self.item, self.quantity)

    @property
    def claimed(self) -> Money | None:
        if self.claimed_minor is None:
            return None
        return Money.from_minor(self.claimed_minor, self.order.currency)


class CaseEvent(Base):
    """The case's history: every step, by whom, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor_role: Mapped[Role] = mapped_column(StrEnumType(Role))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (
        _partial("ix_evidence_to_remove", "created_at", "removed_at IS NULL"),
        _partial(
            "ix_evidence_files_left", "id", "removed_at IS NOT NULL AND stored_path IS NOT NULL"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    file_id: Mapped[str] = mapped_column(String(256))  # the messenger's id, to show it again
    file_unique_id: Mapped[str] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    stored_path: Mapped[str | None] = mapped_column(String(512))  # the downloaded copy
    caption: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # When the photo was removed (docs/privacy.md): file ids and caption cleared at once, the
    # downloaded copy deleted by the next retention sweep, which then clears stored_path.
    removed_at: Mapped[datetime | None]


class MediaBlob(Base):
    """A buyer's photo kept in the database (RETURNDESK_MEDIA_BACKEND=database), for every
    worker to read; keyed by Telegram's file_unique_id (bot/storage/media/)."""

    __tablename__ = "media"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # to check a copy against


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (CheckConstraint("amount_minor IS NULL OR amount_minor > 0", name="amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    remedy: Mapped[Remedy] = mapped_column(StrEnumType(Remedy))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # What the policy would have offered; a difference is a deviation and is recorded as one.
    standard_remedy: Mapped[Remedy | None] = mapped_column(StrEnumType(Remedy))
    standard_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    deviation: Mapped[bool] = mapped_column(Boolean, default=False)
    deviation_note: Mapped[str | None] = mapped_column(Text)
    proposed_by_role: Mapped[Role] = mapped_column(StrEnumType(Role))
    proposed_by_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[OfferStatus] = mapped_column(StrEnumType(OfferStatus), index=True)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(200))

    @property
    def amount(self) -> Money | None:
        return (
            None
            if self.amount_minor is None
            else Money.from_minor(self.amount_minor, self.currency)
        )

    @property
    def standard_amount(self) -> Money | None:
        if self.standard_amount_minor is None:
            return None
        return Money.from_minor(self.standard_amount_minor, self.currency)


class Decision(Base):
    """Who approved, changed, refused, accepted or declined an offer, when and why."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    actor_role: Mapped[Role] = mapped_column(StrEnumType(Role))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Refund(Base):
    """The ledger. A row is written only by bot.services.ledger, under the order's lock."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[Reason] = mapped_column(StrEnumType(Reason))
    status: Mapped[RefundStatus] = mapped_column(StrEnumType(RefundStatus), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Promise(Base):
    """A promise made to a buyer: who owes what, by when (docs/design.md#promises-are-rows)."""

    __tablename__ = "promises"
    # The sweeper looks for open promises by due time and by warning time.
    __table_args__ = (
        Index("ix_promises_open_due", "state", "due_at"),
        Index("ix_promises_open_warn", "state", "warn_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[PromiseKind] = mapped_column(StrEnumType(PromiseKind))
    owner_role: Mapped[Role] = mapped_column(StrEnumType(Role))
    owner_ref: Mapped[str] = mapped_column(String(64))  # seller id, or "support"
    state: Mapped[PromiseState] = mapped_column(StrEnumType(PromiseState))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"))


class ClaimAttempt(Base):
    """Wrong answers one account gave to claim one order, and until when it may not try again
    (docs/claiming.md). Each attempt is audited as well; this row is what the rule reads."""

    __tablename__ = "claim_attempts"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SupportTopic(Base):
    """The forum topic in the support group where an escalated case is worked."""

    __tablename__ = "support_topics"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # Set by the sender once Telegram created the topic; until then messages for it wait.
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(128))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime]


# -- conversation and delivery -----------------------------------------------------------------


class Conversation(Base):
    """What the bot is waiting for in one chat. Locked while an update of that chat is applied."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    awaiting: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class InboxUpdate(Base):
    """An update fetched by long polling, stored before Telegram is told it arrived.

    Storing a batch in one statement lets the bot confirm it at once and apply its updates in
    parallel with the next fetch; an update stays here until it is applied, so one fetched
    before a crash is applied at the next start. (Applying it twice is harmless: the engine
    claims each update's key once.)"""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_bot_id_update_id", "bot_id", "update_id"),)

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # as the engine claims it
    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]  # the update as the Bot API sent it


class DeadLetter(Base):
    """An update set aside: it failed to be applied several times while the database answered,
    so it is kept here with its error instead of holding its chat (docs/poison-updates.md).
    `returndesk inbox` lists these; `inbox retry` applies one as sent, `inbox drop` deletes it."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # as the engine would claim it
    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    set_aside_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)  # the last failure's traceback
    data: Mapped[dict[str, Any]]  # the update as the Bot API sent it


class OutboxMessage(Base):
    """A reply owed to a chat, written in the transaction that decided it.

    Only what is still owed stays here: a delivered row is deleted (its transcript entry records
    the delivery), so finding the next rows to send stays fast however long the bot runs."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[dict[str, str]]] | None] = mapped_column(Json)
    photos: Mapped[list[str] | None] = mapped_column(Json)
    # Files the bot made, uploaded when sent: [{"kind", "name", "base64"}] (bot/runtime/outbox/
    # transport.py reads them); the row's deletion on delivery takes them with it.
    files: Mapped[list[dict[str, str]] | None] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # A sender holds a row it is delivering until then; a sender that died lets it go.
    locked_until: Mapped[datetime | None]
    # Which sender (SenderHeartbeat.id) holds it: a sender presumed dead lets go of its rows
    # before their lease ends. None: only the lease lets go.
    held_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    template: Mapped[str | None] = mapped_column(String(128))
    caused_by: Mapped[str | None] = mapped_column(String(128))  # the update that decided it
    topic_of: Mapped[int | None] = mapped_column(Integer)  # a case: send into its support topic
    action: Mapped[str | None] = mapped_column(String(16))  # a topic action instead of a message


class SenderHeartbeat(Base):
    """A sender (a process delivering the outbox) and when it last said it was alive.

    Written by the sender itself every few seconds; a sender whose heartbeat stopped, or whose
    process is gone from the machine it ran on, is presumed dead, and its row deleted by the
    sender that noticed (bot/runtime/outbox/heartbeat.py)."""

    __tablename__ = "senders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, one a process life
    host: Mapped[str] = mapped_column(String(255))  # for people reading the logs
    pid: Mapped[int] = mapped_column(Integer)
    # The machine and process namespace in which `pid` means this process; None when unknown.
    place: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class ReportSend(Base):
    """A month's report the sweeper sent to a seller's deciders (or, with seller_id "*", every
    seller's to support): one row a recipient and month, so it goes once across restarts and
    sweepers (docs/reports.md, "Every month")."""

    __tablename__ = "report_sends"

    seller_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    sent_at: Mapped[datetime]


class RateBudget(Base):
    """When a scope of Telegram's limits (the whole bot, or one chat) may next send, in seconds
    since the epoch: the budget every sender of the bot shares on PostgreSQL
    (bot/runtime/outbox/budgets.py). A chat's row is written by its sends and dropped once it
    has been free for a while; a missing row is a scope free to send."""

    __tablename__ = "rate_budgets"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class TranscriptEntry(Base):
    """Every message in and out, as the person wrote or read it.

    An update is written here in the same statement that claims it: the unique `update_key` of
    incoming entries is what makes a replayed update a no-op. Outgoing entries are written
    when the message is delivered (until then it is in the outbox)."""

    __tablename__ = "transcript"
    __table_args__ = (_partial("ix_transcript_texts", "at", "text IS NOT NULL"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(128))
    update_key: Mapped[str | None] = mapped_column(String(128), unique=True)  # incoming only
    caused_by: Mapped[str | None] = mapped_column(String(128))  # outgoing: the update behind it
    delivered_at: Mapped[datetime | None]  # outgoing: when the messenger accepted it
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Every refusal of access, and every deliberate exception a person made."""

    __tablename__ = "audit"
    __table_args__ = (_partial("ix_audit_to_mask", "at", "masked_at IS NULL"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128), index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # When who and what were masked past retention or at an erasure (docs/privacy.md).
    masked_at: Mapped[datetime | None]


# -- Ozon returns and cancellations (docs/ozon.md) ---------------------------------------------


class OzonReturn(Base):
    """A return read from Ozon: an rFBS return the seller decides (with its case), or an
    FBO/FBS return shown read-only. Read once per (seller, scheme, Ozon's id).

    The seller's decision waits here (`act_*`) for the worker that carries it out on Ozon
    outside any update's transaction; `act_seq` counts decisions, so each outcome is recorded
    once (`act_recorded`)."""

    __tablename__ = "ozon_returns"
    __table_args__ = (UniqueConstraint("seller_id", "scheme", "ozon_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    scheme: Mapped[str] = mapped_column(String(8))  # rfbs, fbs, fbo
    ozon_id: Mapped[int] = mapped_column(BigInteger)
    posting_number: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # Ozon's word for where it is (named apart from a case's state, which changes only
    # through bot.services.cases.move).
    ozon_state: Mapped[str] = mapped_column(String(64), default="")
    ozon_state_name: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what Ozon said of it
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    act_id: Mapped[int | None] = mapped_column(Integer)  # Ozon's action id
    act_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    act_comment: Mapped[str | None] = mapped_column(Text)
    act_reason_id: Mapped[int | None] = mapped_column(Integer)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    act_status: Mapped[str | None] = mapped_column(String(16), index=True)
    act_error: Mapped[str | None] = mapped_column(Text)
    act_seq: Mapped[int] = mapped_column(Integer, default=0)
    act_recorded: Mapped[bool] = mapped_column(Boolean, default=True)
    act_by: Mapped[int | None] = mapped_column(BigInteger)


class OzonCancellation(Base):
    """A conditional cancellation read from Ozon, shown to the seller once (`shown_at`); their
    Approve or Reject waits here (`decision`, `act_status`) to be carried out on Ozon."""

    __tablename__ = "ozon_cancellations"
    __table_args__ = (UniqueConstraint("seller_id", "cancellation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    cancellation_id: Mapped[int] = mapped_column(BigInteger)
    posting_number: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    initiator: Mapped[str] = mapped_column(String(32), default="")
    ozon_state: Mapped[str] = mapped_column(String(32), default="")  # ON_APPROVAL, APPROVED...
    auto_approve_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    shown_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))  # approve, reject
    act_status: Mapped[str | None] = mapped_column(String(16), index=True)
    act_error: Mapped[str | None] = mapped_column(Text)
    act_recorded: Mapped[bool] = mapped_column(Boolean, default=True)
    act_by: Mapped[int | None] = mapped_column(BigInteger)
