"""The events the bot gives itself: its own processes (the sweeper, bot/runtime/sweeper.py)
build them and the engine applies them like a pressed button, once per key.

No person sends them and no button carries them, so they are not the handlers' payloads but
the engine's vocabulary, beside `Incoming.system` which marks who may send them: a process
names them without reaching into a handler module. handlers/support/sweeps.py acts on them.
"""

from __future__ import annotations

from bot.engine.payloads import Payload, RowId


class Remind(Payload, prefix="swr"):
    promise_id: RowId  # a promise reached its warning point


class Breach(Payload, prefix="swb"):
    promise_id: RowId  # a promise fell due unkept


class Delivered(Payload, prefix="swd"):
    case_id: RowId  # a shipped reshipment the buyer did not confirm counts as delivered


class Survey(Payload, prefix="sws"):
    case_id: RowId  # a resolved case's satisfaction survey fell due


class MonthlyReport(Payload, prefix="swm"):
    # a month's report fell due (docs/reports.md, "Every month"): a seller's id, or "*" for
    # support's on every seller; the month as "2026-11"
    seller: str
    month: str


# The Ozon connector's (bot/runtime/ozon_desk.py, handlers/seller/ozon.py): what it read from
# Ozon, and what Ozon answered to a seller's decision, each recorded once.


class OzonReturnIn(Payload, prefix="zri"):
    row_id: RowId  # an rFBS return was read: open its case and show it to the seller


class OzonReturnActed(Payload, prefix="zrd"):
    row_id: RowId  # Ozon answered the seller's decision number `seq`
    seq: int


class OzonCancellationIn(Payload, prefix="zci"):
    row_id: RowId  # a conditional cancellation waits for the seller


class OzonCancellationActed(Payload, prefix="zcd"):
    row_id: RowId  # Ozon answered the seller's Approve or Reject
