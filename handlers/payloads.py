"""Button payloads (aiogram callback-data factories; the core only packs and unpacks them).

Every payload fits Telegram's 64 bytes and names what the button acts on, never who may press
it: handlers decide that from the update's sender.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.domain.enums import ItemCondition, Reason, Want


class Menu(CallbackData, prefix="m"):
    action: str  # problem, return, cancel, orders, language


class PickOrder(CallbackData, prefix="o"):
    flow: str  # problem, return, cancel
    order_id: int


class PickReason(CallbackData, prefix="rs"):
    case_id: int
    reason: Reason


class PickItem(CallbackData, prefix="it"):
    case_id: int
    item_id: int


class PickQuantity(CallbackData, prefix="q"):
    case_id: int
    quantity: int


class PickWant(CallbackData, prefix="w"):
    case_id: int
    want: Want


class PickCondition(CallbackData, prefix="cd"):
    case_id: int
    condition: ItemCondition


class PhotosDone(CallbackData, prefix="pd"):
    case_id: int


class Withdraw(CallbackData, prefix="wd"):
    case_id: int


class ReturnSent(CallbackData, prefix="rt"):
    case_id: int


class CancelOrder(CallbackData, prefix="co"):
    case_id: int
    action: str  # confirm, keep, discount


class BuyerOffer(CallbackData, prefix="bo"):
    offer_id: int
    action: str  # accept, decline


class SellerOffer(CallbackData, prefix="so"):
    offer_id: int
    action: str  # approve, change, refuse


class Alternative(CallbackData, prefix="sa"):
    offer_id: int
    remedy: str  # reship, refund, coupon, support


class Inspect(CallbackData, prefix="in"):
    case_id: int
    verdict: str  # full, deduct


class Done(CallbackData, prefix="ex"):
    case_id: int  # the seller did what the accepted offer asked (refund sent, item shipped)


class AnswerQuestion(CallbackData, prefix="aq"):
    case_id: int


class Language(CallbackData, prefix="lang"):
    code: str
