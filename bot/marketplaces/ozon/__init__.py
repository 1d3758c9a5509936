"""The Ozon Seller API client (docs/ozon.md): every method a POST with JSON and the seller's
`Client-Id` / `Api-Key`, rate-limited, retried with jittered backoff where the API says to back
off, and its answers parsed into exact values."""

from bot.marketplaces.ozon.client import OzonClient, RetryPolicy
from bot.marketplaces.ozon.errors import (
    OzonApiError,
    OzonError,
    OzonShapeError,
    OzonUnavailableError,
)
from bot.marketplaces.ozon.models import (
    Cancellation,
    CancellationPage,
    Posting,
    PostingPage,
    PostingProduct,
    ReturnAction,
    ReturnPage,
    RfbsReturn,
    RfbsReturnDetail,
    RfbsReturnPage,
    Role,
    SellerReturn,
)

__all__ = [
    "Cancellation",
    "CancellationPage",
    "OzonApiError",
    "OzonClient",
    "OzonError",
    "OzonShapeError",
    "OzonUnavailableError",
    "Posting",
    "PostingPage",
    "PostingProduct",
    "RetryPolicy",
    "ReturnAction",
    "ReturnPage",
    "RfbsReturn",
    "RfbsReturnDetail",
    "RfbsReturnPage",
    "Role",
    "SellerReturn",
]
