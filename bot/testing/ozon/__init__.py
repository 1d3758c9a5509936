"""A fake Ozon Seller API for the tests (docs/testing.md, docs/ozon.md)."""

from bot.testing.ozon.data import (
    CIRCLE_OPEN,
    HANG,
    METHODS,
    RATE_LIMIT,
    SERVER_ERROR,
    UNAVAILABLE,
    FakeCancellation,
    FakePosting,
    FakeProduct,
    FakeReturn,
    FakeRfbsReturn,
    FakeRole,
    FakeSeller,
    Fault,
    Transition,
)
from bot.testing.ozon.server import Call, FakeOzon

__all__ = [
    "CIRCLE_OPEN",
    "HANG",
    "METHODS",
    "RATE_LIMIT",
    "SERVER_ERROR",
    "UNAVAILABLE",
    "Call",
    "FakeCancellation",
    "FakeOzon",
    "FakePosting",
    "FakeProduct",
    "FakeReturn",
    "FakeRfbsReturn",
    "FakeRole",
    "FakeSeller",
    "Fault",
    "Transition",
]
