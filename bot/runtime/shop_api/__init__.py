"""The shop API: any shop pushes its orders over HTTP (docs/shop-api.md).

`POST /api/orders` takes the order import's JSON (bot/services/importer.py), authenticated by
the seller's bearer token; `GET /api/openapi.json` describes it.
"""

from bot.runtime.shop_api.routes import shop_api
from bot.runtime.shop_api.tokens import SellerTokens

__all__ = ["SellerTokens", "shop_api"]
