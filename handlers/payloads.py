"""Button payloads, packed into Telegram's 64-byte callback data (bot.engine.payloads).

Every payload fits Telegram's 64 bytes and names what the button acts on, never who may press
it: handlers decide that from the update's sender.
"""

from __future__ import annotations

from bot.domain.enums import ItemCondition, Reason, Want
from bot.engine.payloads import Payload


class Menu(Payload, prefix="m"):
    action: str  # problem, return, cancel, orders, language, person


class PickOrder(Payload, prefix="o"):
    flow: str  # problem, return, cancel
    order_id: int


class PickReason(Payload, prefix="rs"):
    case_id: int
    reason: Reason


class PickItem(Payload, prefix="it"):
    case_id: int
    item_id: int


class PickQuantity(Payload, prefix="q"):
    case_id: int
    quantity: int


class PickWant(Payload, prefix="w"):
    case_id: int
    want: Want


class PickCondition(Payload, prefix="cd"):
    case_id: int
    condition: ItemCondition


class PhotosDone(Payload, prefix="pd"):
    case_id: int


class Withdraw(Payload, prefix="wd"):
    case_id: int


class ReturnSent(Payload, prefix="rt"):
    case_id: int


class CancelOrder(Payload, prefix="co"):
    case_id: int
    action: str  # confirm, keep, discount


class BuyerOffer(Payload, prefix="bo"):
    offer_id: int
    action: str  # accept, decline


class SellerOffer(Payload, prefix="so"):
    offer_id: int
    action: str  # approve, change, refuse


class Alternative(Payload, prefix="sa"):
    offer_id: int
    remedy: str  # reship, refund, coupon, support


class Inspect(Payload, prefix="in"):
    case_id: int
    verdict: str  # full, deduct


class Done(Payload, prefix="ex"):
    case_id: int  # the seller did what the accepted offer asked (refund sent, item shipped)


class AnswerQuestion(Payload, prefix="aq"):
    case_id: int


class Take(Payload, prefix="tk"):
    case_id: int  # a support member takes the escalated case


class Language(Payload, prefix="lang"):
    code: str


class Remind(Payload, prefix="swr"):
    commitment_id: int  # the sweeper: a promise reached its warning point


class Breach(Payload, prefix="swb"):
    commitment_id: int  # the sweeper: a promise fell due unkept
