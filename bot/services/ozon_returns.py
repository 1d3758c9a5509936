"""Ozon's returns and conditional cancellations as rows (docs/ozon.md): what the puller read,
the seller's decision waiting to be carried out on Ozon, and its outcome waiting to be recorded.

Nothing here calls Ozon: the runtime (bot/runtime/ozon_desk.py) makes the calls outside any
transaction and writes what it learnt through these functions, each in a short transaction of
its own; the engine then records the outcome once (handlers/seller/ozon.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bot.domain.enums import Reason
from bot.marketplaces.ozon import Cancellation, RfbsReturn, RfbsReturnDetail, SellerReturn
from bot.marketplaces.ozon.unconfirmed import Fact, met
from bot.services.ozon_orders import MARKETPLACE
from bot.services.ozon_orders import _set_aside as set_aside_record
from bot.storage.models import Order, OzonCancellation, OzonReturn, Refund
from bot.storage.transaction import Transaction

RFBS = "rfbs"
PENDING, DONE, FAILED = "pending", "done", "failed"
# The action ids the reference names (docs/ozon.md): a rejection (with a reason and a comment)
# and a partial refund where the buyer keeps the item. Every other id comes from the return.
REJECT_IDS = frozenset({-1, -10})
COMPENSATE_ID = 1020
# Ozon's reasons (the buyer's words on Ozon) that say plainly which of ours it is; anything
# else is "other", with Ozon's text kept on the return.
_REASON_WORDS: tuple[tuple[str, Reason], ...] = (
    ("брак", Reason.DEFECT),
    ("дефект", Reason.DEFECT),
    ("не работает", Reason.DEFECT),
    ("не тот товар", Reason.WRONG_ITEM),
    ("другой товар", Reason.WRONG_ITEM),
    ("не соответствует описанию", Reason.NOT_AS_DESCRIBED),
    ("не соответствует", Reason.NOT_AS_DESCRIBED),
    ("поврежд", Reason.DAMAGED_IN_TRANSIT),
    ("некомплект", Reason.MISSING_ITEMS),
    ("не подошел", Reason.CHANGED_MIND),
    ("не подошёл", Reason.CHANGED_MIND),
    ("передумал", Reason.CHANGED_MIND),
)
# Words in an action's name that say it pays the buyer back in full (docs/ozon.md: which ids
# refund is not documented, so this guess is one of the facts to check on a live account).
_REFUND_WORDS = ("вернуть деньги", "возврат денег", "return money", "refund")


def reason_of(detail: dict[str, Any]) -> Reason:
    if detail.get("is_defect"):
        return Reason.DEFECT
    name = str(detail.get("reason") or "").lower()
    for words, reason in _REASON_WORDS:
        if words in name:
            return reason
    return Reason.OTHER


def pays_in_full(action_id: int, name: str) -> bool:
    """Whether an action (not the partial refund) pays the buyer back: guessed from its name."""
    if action_id == COMPENSATE_ID or action_id in REJECT_IDS:
        return False
    lowered = name.lower()
    if any(words in lowered for words in _REFUND_WORDS):
        met(Fact.REFUND_ACTION_GUESSED, f"id {action_id}: {name}")
        return True
    return False


def detail_data(summary: RfbsReturn | None, detail: RfbsReturnDetail) -> dict[str, Any]:
    product = detail.product or (summary.product if summary else None)
    return {
        "return_number": summary.return_number if summary else "",
        "product": {
            "sku": product.sku if product else "",
            "offer_id": product.offer_id if product else "",
            "name": product.name if product else "",
            "price": str(product.price) if product and product.price is not None else "",
            "currency": product.currency if product else "",
        },
        "reason": detail.reason_name,
        "reason_id": detail.reason_id,
        "is_defect": detail.reason_is_defect,
        "comment": detail.comment,
        "photos": list(detail.client_photos),
        "actions": [[a.id, a.name] for a in detail.available_actions],
        "rejection_reasons": [
            [r.id, r.name, r.hint, r.is_comment_required] for r in detail.rejection_reasons
        ],
        "method": detail.return_method_description,
    }


def actions_of(row: OzonReturn) -> list[tuple[int, str]]:
    return [(int(i), str(n)) for i, n in row.data.get("actions", [])]


def action_name(row: OzonReturn, action_id: int) -> str | None:
    return next((n for i, n in actions_of(row) if i == action_id), None)


def rejection_reasons(row: OzonReturn) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in row.data.get("rejection_reasons", [])]


def product_price(row: OzonReturn) -> Decimal | None:
    price = row.data.get("product", {}).get("price")
    return Decimal(price) if price else None


async def known_returns(tx: Transaction, seller_id: str, ids: list[int]) -> dict[int, OzonReturn]:
    rows = await tx.session.scalars(
        select(OzonReturn).where(
            OzonReturn.seller_id == seller_id,
            OzonReturn.scheme == RFBS,
            OzonReturn.ozon_id.in_(ids),
        )
    )
    return {r.ozon_id: r for r in rows}


async def _order_of(
    tx: Transaction, seller_id: str, posting_number: str, order_number: str
) -> Order | None:
    """The order a return or cancellation is about: by Ozon's posting number (our order's
    number), else by the order number the buyer sees when it names one order only."""
    base = select(Order).where(Order.seller_id == seller_id, Order.marketplace == MARKETPLACE)
    if posting_number:
        found = await tx.session.scalar(base.where(Order.number == posting_number))
        if found is not None:
            return found
    if order_number:
        found_all = list(await tx.session.scalars(base.where(Order.order_number == order_number)))
        if len(found_all) == 1:
            return found_all[0]
    return None


async def take_return(
    tx: Transaction,
    seller_id: str,
    summary: RfbsReturn | None,
    detail: RfbsReturnDetail,
    now: datetime,
) -> OzonReturn | None:
    """Keep what Ozon said of the return; None (and the return set aside with why) when no
    order of the seller's is the one it is about: it is looked for again at the next pull."""
    posting = detail.posting_number or (summary.posting_number if summary else "")
    order_number = detail.order_number or (summary.order_number if summary else "")
    row = (await known_returns(tx, seller_id, [detail.return_id])).get(detail.return_id)
    data = detail_data(summary, detail)
    if row is None:
        order = await _order_of(tx, seller_id, posting, order_number)
        if order is None:
            await set_aside_record(
                tx,
                seller_id,
                f"return:{detail.return_id}",
                f"no order {posting or order_number or '(none named)'} of this seller: "
                "its postings are not synced yet",
                raw=data,
                now=now,
            )
            return None
        row = OzonReturn(
            seller_id=seller_id,
            scheme=RFBS,
            ozon_id=detail.return_id,
            order_id=order.id,
            first_seen_at=now,
            act_seq=0,
            act_recorded=True,
        )
        tx.session.add(row)
    if row.act_status != PENDING:  # what a pending decision was taken on stays as it was
        row.data = data
    row.posting_number = posting[:64]
    row.ozon_state, row.ozon_state_name = detail.state[:64], detail.state_name[:200]
    row.updated_at = now
    await tx.session.flush()
    return row


async def set_aside(
    tx: Transaction, seller_id: str, record: str, reason: str, *, raw: Any, now: datetime
) -> None:
    """A record from Ozon that could not be taken in, kept with why (docs/ozon.md)."""
    await set_aside_record(tx, seller_id, record, reason, raw=raw, now=now)


async def take_seller_returns(
    tx: Transaction, seller_id: str, found: list[SellerReturn], now: datetime
) -> None:
    """FBO/FBS returns, kept to be shown (/ozon_returns): Ozon decides them, not the seller."""
    schemes = {r.id: (r.schema or "fbs").lower()[:8] for r in found}
    known = {
        (r.scheme, r.ozon_id): r
        for r in await tx.session.scalars(
            select(OzonReturn).where(
                OzonReturn.seller_id == seller_id,
                OzonReturn.scheme != RFBS,
                OzonReturn.ozon_id.in_(list(schemes)),
            )
        )
    }
    for r in found:
        row = known.get((schemes[r.id], r.id))
        if row is None:
            row = OzonReturn(
                seller_id=seller_id,
                scheme=schemes[r.id],
                ozon_id=r.id,
                first_seen_at=now,
                act_seq=0,
                act_recorded=True,
            )
            tx.session.add(row)
        row.posting_number = r.posting_number[:64]
        row.ozon_state, row.ozon_state_name = r.status[:64], r.status_name[:200]
        row.data = {
            "name": r.name,
            "reason": r.reason,
            "type": r.type,
            "changed_at": r.status_changed_at.isoformat() if r.status_changed_at else None,
        }
        row.updated_at = now


async def seller_returns(tx: Transaction, seller_ids: list[str], limit: int) -> list[OzonReturn]:
    return list(
        await tx.session.scalars(
            select(OzonReturn)
            .where(OzonReturn.seller_id.in_(seller_ids), OzonReturn.scheme != RFBS)
            .order_by(OzonReturn.updated_at.desc(), OzonReturn.id.desc())
            .limit(limit)
        )
    )


async def to_open(tx: Transaction) -> list[OzonReturn]:
    """rFBS returns taken in whose case is not opened yet (a crash may have come between)."""
    return list(
        await tx.session.scalars(
            select(OzonReturn)
            .where(
                OzonReturn.scheme == RFBS,
                OzonReturn.case_id.is_(None),
                OzonReturn.order_id.is_not(None),
            )
            .order_by(OzonReturn.id)
        )
    )


async def return_of_case(tx: Transaction, case_id: int) -> OzonReturn | None:
    return await tx.session.scalar(
        select(OzonReturn).where(OzonReturn.case_id == case_id, OzonReturn.scheme == RFBS)
    )


async def lock_return(tx: Transaction, row_id: int) -> OzonReturn | None:
    return await tx.session.get(OzonReturn, row_id, with_for_update={"key_share": True})


def decide(
    row: OzonReturn,
    action_id: int,
    *,
    by: int,
    amount_minor: int | None = None,
    comment: str | None = None,
    reason_id: int | None = None,
    refund_id: int | None = None,
) -> None:
    """The seller's decision, waiting to be carried out on Ozon."""
    row.act_id = action_id
    row.act_amount_minor = amount_minor
    row.act_comment = comment
    row.act_reason_id = reason_id
    row.refund_id = refund_id
    row.act_status = PENDING
    row.act_error = None
    row.act_seq += 1
    row.act_recorded = False
    row.act_by = by


async def refund_id_by_key(tx: Transaction, key: str) -> int | None:
    await tx.write_now(Refund.__table__)  # type: ignore[arg-type]
    return await tx.session.scalar(select(Refund.id).where(Refund.idempotency_key == key))


def refund_key(row: OzonReturn) -> str:
    """The ledger key of the refund a decision pays: one per return and decision."""
    return f"ozon:{row.ozon_id}:{row.act_seq + 1}"


async def pending_returns(tx: Transaction) -> list[tuple[int, int, str, int, int]]:
    """(row, Ozon's return id, seller, action, decision's number) for decisions to carry out."""
    rows = await tx.session.execute(
        select(
            OzonReturn.id,
            OzonReturn.ozon_id,
            OzonReturn.seller_id,
            OzonReturn.act_id,
            OzonReturn.act_seq,
        )
        .where(OzonReturn.act_status == PENDING)
        .order_by(OzonReturn.id)
    )
    return [(a, b, c, int(d or 0), e) for a, b, c, d, e in rows.all()]


async def outcome(
    tx: Transaction,
    row_id: int,
    seq: int,
    *,
    status: str,
    error: str | None,
    now: datetime,
    detail: RfbsReturnDetail | None = None,
) -> bool:
    """What Ozon answered to decision `seq`; False when it was written before."""
    row = await lock_return(tx, row_id)
    if row is None or row.act_seq != seq or row.act_status != PENDING:
        return False
    row.act_status, row.act_error, row.updated_at = status, error, now
    if detail is not None:
        row.data = {**detail_data(None, detail), "return_number": row.data.get("return_number")}
        row.ozon_state, row.ozon_state_name = detail.state[:64], detail.state_name[:200]
    return True


async def unrecorded_returns(tx: Transaction) -> list[tuple[int, int, str]]:
    """(row, decision's number, seller) whose outcome the engine has not recorded yet."""
    rows = await tx.session.execute(
        select(OzonReturn.id, OzonReturn.act_seq, OzonReturn.seller_id)
        .where(OzonReturn.act_status.in_((DONE, FAILED)), OzonReturn.act_recorded.is_(False))
        .order_by(OzonReturn.id)
    )
    return [(a, b, c) for a, b, c in rows.all()]


# -- conditional cancellations -----------------------------------------------------------------


async def take_cancellation(
    tx: Transaction, seller_id: str, found: Cancellation, now: datetime
) -> OzonCancellation:
    row = await tx.session.scalar(
        select(OzonCancellation).where(
            OzonCancellation.seller_id == seller_id,
            OzonCancellation.cancellation_id == found.cancellation_id,
        )
    )
    if row is None:
        order = await _order_of(tx, seller_id, found.posting_number, "")
        row = OzonCancellation(
            seller_id=seller_id,
            cancellation_id=found.cancellation_id,
            order_id=order.id if order else None,
            first_seen_at=now,
            act_recorded=True,
        )
        tx.session.add(row)
    row.posting_number = found.posting_number[:64]
    row.reason = " — ".join(x for x in (found.reason_name, found.reason_message) if x)
    row.initiator = found.initiator[:32]
    row.ozon_state = found.state[:32]
    row.auto_approve_at = found.auto_approve_date
    row.updated_at = now
    await tx.session.flush()
    return row


async def cancellations_to_show(tx: Transaction) -> list[OzonCancellation]:
    return list(
        await tx.session.scalars(
            select(OzonCancellation)
            .where(
                OzonCancellation.shown_at.is_(None), OzonCancellation.ozon_state == "ON_APPROVAL"
            )
            .order_by(OzonCancellation.id)
        )
    )


async def lock_cancellation(tx: Transaction, row_id: int) -> OzonCancellation | None:
    return await tx.session.get(OzonCancellation, row_id, with_for_update={"key_share": True})


async def pending_cancellations(tx: Transaction) -> list[tuple[int, int, str, str, str]]:
    """(row, Ozon's id, seller, posting, decision) for decisions to carry out."""
    rows = await tx.session.execute(
        select(
            OzonCancellation.id,
            OzonCancellation.cancellation_id,
            OzonCancellation.seller_id,
            OzonCancellation.posting_number,
            OzonCancellation.decision,
        )
        .where(OzonCancellation.act_status == PENDING)
        .order_by(OzonCancellation.id)
    )
    return [(a, b, c, d, e or "") for a, b, c, d, e in rows.all()]


async def cancellation_outcome(
    tx: Transaction, row_id: int, *, status: str, error: str | None, state: str, now: datetime
) -> bool:
    row = await lock_cancellation(tx, row_id)
    if row is None or row.act_status != PENDING:
        return False
    row.act_status, row.act_error, row.updated_at = status, error, now
    if state:
        row.ozon_state = state[:32]
    return True


async def unrecorded_cancellations(tx: Transaction) -> list[tuple[int, str]]:
    rows = await tx.session.execute(
        select(OzonCancellation.id, OzonCancellation.seller_id)
        .where(
            OzonCancellation.act_status.in_((DONE, FAILED)),
            OzonCancellation.act_recorded.is_(False),
        )
        .order_by(OzonCancellation.id)
    )
    return [(a, b) for a, b in rows.all()]


async def order_of(tx: Transaction, order_id: int | None) -> Order | None:
    return await tx.session.get(Order, order_id) if order_id is not None else None


async def return_row(tx: Transaction, row_id: int) -> OzonReturn | None:
    return await tx.session.get(OzonReturn, row_id)


async def refund_of(tx: Transaction, row: OzonReturn) -> Refund | None:
    return await tx.session.get(Refund, row.refund_id) if row.refund_id else None
