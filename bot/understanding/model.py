"""The answer to "what does this buyer want", and the seam any understander fits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.enums import Reason


class Intent(StrEnum):
    """What the buyer asks for; the names are the ones `returndesk understand` prints."""

    PROBLEM = "problem"
    RETURN = "return"
    CANCEL = "cancel"
    ORDERS = "orders"
    STATUS = "status"  # where is my refund, any news
    PERSON = "person"
    GREETING = "greeting"
    UNKNOWN = "unknown"


INTENTS = tuple(Intent)


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    reason: Reason | None = None
    order: str | None = None  # an order number as the buyer typed it
    confidence: float = 0.0  # 0 for unknown; how sure the understander is otherwise

    def as_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent.value,
            "reason": self.reason.value if self.reason is not None else None,
            "order": self.order,
            "confidence": self.confidence,
        }


class Understander(Protocol):
    """Turns one message into an Understanding. The offline default reads lexicons; a seller's
    hosted language model fits here too (docs/understanding.md#a-hosted-language-model). It is
    called inside the update's transaction, so it must answer quickly or give up with
    `Understanding(Intent.UNKNOWN)`."""

    def understand(self, text: str, language: str) -> Understanding: ...
