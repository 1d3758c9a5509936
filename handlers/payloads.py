"""Button payloads, packed into Telegram's 64-byte callback data (bot.engine.payloads).

Every payload fits Telegram's 64 bytes and names what the button acts on, never who may press
it: handlers decide that from the update's sender.
"""

from __future__ import annotations

from bot.domain.enums import ItemCondition, Reason, Want
from bot.engine.payloads import Payload, RowId


class Menu(Payload, prefix="m"):
    action: str  # problem, return, cancel, orders, language, person


class PickOrder(Payload, prefix="o"):
    flow: str  # problem, return, cancel
    order_id: RowId


class PickReason(Payload, prefix="rs"):
    case_id: RowId
    reason: Reason


class ChangeReason(Payload, prefix="cr"):
    case_id: RowId  # the buyer corrects the reason the bot understood from their words


class PickItem(Payload, prefix="it"):
    case_id: RowId
    item_id: RowId


class PickQuantity(Payload, prefix="q"):
    case_id: RowId
    quantity: int


class PickWant(Payload, prefix="w"):
    case_id: RowId
    want: Want


class PickCondition(Payload, prefix="cd"):
    case_id: RowId
    condition: ItemCondition


class PhotosDone(Payload, prefix="pd"):
    case_id: RowId


class Withdraw(Payload, prefix="wd"):
    case_id: RowId


class ReturnSent(Payload, prefix="rt"):
    case_id: RowId


class CancelOrder(Payload, prefix="co"):
    case_id: RowId
    action: str  # confirm, keep, discount


class BuyerOffer(Payload, prefix="bo"):
    offer_id: RowId
    action: str  # accept, decline


class SellerOffer(Payload, prefix="so"):
    offer_id: RowId
    action: str  # approve, change, refuse


class Alternative(Payload, prefix="sa"):
    offer_id: RowId
    remedy: str  # reship, refund, coupon, support


class Inspect(Payload, prefix="in"):
    case_id: RowId
    verdict: str  # full, deduct


class Done(Payload, prefix="ex"):
    case_id: RowId  # the seller did what the accepted offer asked (refund sent, item shipped)


class RefundFailed(Payload, prefix="rf"):
    case_id: RowId  # the seller's refund that was sent did not go through
    refund_id: RowId


class StopShipment(Payload, prefix="ss"):
    case_id: RowId  # an order cancelled before shipping: the seller stopped it, or it had shipped
    action: str  # stopped, shipped


class DisputeDeduction(Payload, prefix="dd"):
    case_id: RowId  # the buyer disputes what the seller deducted at a return's inspection


class AnswerQuestion(Payload, prefix="aq"):
    case_id: RowId


class Rate(Payload, prefix="rate"):
    case_id: RowId  # the buyer's answer to the satisfaction survey (docs/aftersales.md)
    stars: int  # 1-5; 0 skips the survey


class NoComment(Payload, prefix="nc"):
    case_id: RowId  # the buyer rated and has nothing to add


class AnswerRating(Payload, prefix="ar"):
    case_id: RowId  # a decider answers a buyer's low rating


class StillNotRight(Payload, prefix="snr"):
    case_id: RowId  # the buyer of a resolved case says it is still not right


class Arrived(Payload, prefix="arv"):
    case_id: RowId  # the buyer received the reshipment or replacement


class NotArrived(Payload, prefix="narv"):
    case_id: RowId  # the buyer says the reshipment or replacement has not arrived


class SettleItem(Payload, prefix="sti"):
    case_id: RowId
    choice: str  # keep, return (bot.domain.enums.ItemSettlement): the item a replacement replaces


class SecondRound(Payload, prefix="sr"):
    case_id: RowId
    choice: str  # refund, replacement, support (the policy's [aftersales] second_round)


class Take(Payload, prefix="tk"):
    case_id: RowId  # a support member takes the escalated case


class WorkOn(Payload, prefix="wo"):
    case_id: RowId  # a support member's private chat: work on this case from here


class OpenCases(Payload, prefix="oc"):
    """A support member's private chat: list the open cases, to pick one ("switch case")."""


class Language(Payload, prefix="lang"):
    code: str


class Forget(Payload, prefix="fg"):
    buyer_id: int  # a Telegram id: the buyer who asked with /forget (docs/privacy.md)
    action: str  # confirm, decline


class OzonAction(Payload, prefix="zra"):
    row_id: RowId  # an Ozon return (bot.storage.models.OzonReturn)
    action_id: int  # one of its available_actions, as Ozon listed them


class OzonRejectWhy(Payload, prefix="zrr"):
    row_id: RowId
    action_id: int
    reason_id: int  # one of the return's rejection reasons


class OzonCancellationDecision(Payload, prefix="zcx"):
    row_id: RowId  # an Ozon conditional cancellation
    approve: bool
