"""What the Ozon reference does not confirm, in one place (docs/ozon.md, "What to check on a
live account").

Each fact is a guess the code makes where the published reference is silent or contradicts its
own examples. The first time a process meets one (a shape the reference and its examples disagree
on, an action id it does not name, a rate limit answered with some status), it is logged once at
WARNING with what was seen, so an operator checking a live account learns which guess was
exercised and how. `FACTS` is the list the docs repeat.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum

log = logging.getLogger(__name__)


class Fact(StrEnum):
    RETURNS_AS_OBJECT = "rfbs_returns_object"
    RETURNS_AS_LIST = "rfbs_returns_list"
    PRICE_AS_NUMBER = "price_number"
    PRICE_AS_STRING = "price_string"
    ACTION_NESTED = "available_action_nested"
    ACTION_ID_UNDOCUMENTED = "action_id_undocumented"
    RATE_LIMIT_STATUS = "rate_limit_status"
    POSTINGS_V4_SHAPE = "postings_v4_shape"
    POSTING_DONE_TIMES = "posting_done_times"
    ROLES_SHAPE = "roles_shape"
    REFUND_ACTION_GUESSED = "refund_action_guessed"
    ACTION_DONE_GUESSED = "action_done_guessed"


FACTS: dict[Fact, str] = {
    Fact.RETURNS_AS_OBJECT: (
        "/v2/returns/rfbs/list answered `returns` as one object (the reference's type); "
        "its example shows a list"
    ),
    Fact.RETURNS_AS_LIST: (
        "/v2/returns/rfbs/list answered `returns` as a list (the newer example); the reference "
        "types it as an object"
    ),
    Fact.PRICE_AS_NUMBER: "a price came as a JSON number; the reference types prices as strings",
    Fact.PRICE_AS_STRING: "a price came as a string, as the reference types it",
    Fact.ACTION_NESTED: (
        "/v2/returns/rfbs/get nested available_actions[].action{id,name} (the newer example), "
        "not available_actions[]{id,name} (the reference)"
    ),
    Fact.ACTION_ID_UNDOCUMENTED: (
        "/v1/returns/rfbs/action/set was called with an action id the reference does not name "
        "(it names only -1, -10 and 1020); which ids approve, receive the goods or refund in "
        "full is not documented, so actions are only ever taken from available_actions"
    ),
    Fact.RATE_LIMIT_STATUS: (
        'the global rate limit ("You have reached request rate limit per second") came with '
        "this HTTP status; the reference does not say which"
    ),
    Fact.POSTINGS_V4_SHAPE: (
        "/v4/posting/fbs/list: only the newer example was read, not its schema (cursor, "
        "postings[] at the top, products[].price as {amount, currency})"
    ),
    Fact.POSTING_DONE_TIMES: (
        "a posting is delivered or cancelled but carries no time of it the reference names; "
        "the time the sync first saw it so is used"
    ),
    Fact.ROLES_SHAPE: (
        "/v1/roles: the reference names the method, not its answer; it is read as "
        "roles[]{name, methods[], expires_at}"
    ),
    Fact.REFUND_ACTION_GUESSED: (
        "an rFBS return action was taken to pay the buyer back in full because of its name "
        "(the reference does not say which id refunds); its amount went through the ledger"
    ),
    Fact.ACTION_DONE_GUESSED: (
        "a decision sent before was taken as carried out because its action was no longer "
        "among the return's available_actions (the reference has no way to ask whether an "
        "action/set went through)"
    ),
}

_met: set[Fact] = set()
_lock = threading.Lock()


def met(fact: Fact, seen: str = "") -> bool:
    """Log `fact` the first time this process meets it; True if this was the first time."""
    with _lock:
        if fact in _met:
            return False
        _met.add(fact)
    detail = f" ({seen})" if seen else ""
    log.warning("Ozon, unconfirmed by the reference: %s%s", FACTS[fact], detail)
    return True


def forget() -> None:
    """For tests: meet every fact afresh."""
    with _lock:
        _met.clear()
