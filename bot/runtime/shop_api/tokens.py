"""Which seller a bearer token belongs to. Tokens come from the environment, `.env` or a secrets
folder (bot/config/settings.py ApiSettings), never from the shop file."""

from __future__ import annotations

import hmac

from bot.config.settings import ApiSettings, SettingsError
from bot.config.shop import ShopConfig


class SellerTokens:
    def __init__(self, tokens: dict[str, bytes]) -> None:
        self._tokens = tokens

    @classmethod
    def load(cls, settings: ApiSettings, shop: ShopConfig) -> SellerTokens:
        """Every seller's token; SettingsError for a token of a seller the shop file lacks."""
        found = settings.seller_tokens()
        sellers = {seller.id for seller in shop.sellers}
        strangers = sorted(set(found) - sellers)
        if strangers:
            raise SettingsError(
                [
                    f"RETURNDESK_API_TOKENS (or _DIR): seller {name!r} is not in the shop file"
                    for name in strangers
                ]
            )
        return cls({seller: token.get_secret_value().encode() for seller, token in found.items()})

    @property
    def sellers(self) -> list[str]:
        return sorted(self._tokens)

    def seller_for(self, given: str) -> str | None:
        """The seller whose token `given` is. Every token is compared, each in constant time,
        so neither a token nor whose it is can be guessed from how long the answer takes."""
        presented = given.encode("utf-8", "replace")
        found = None
        for seller, token in self._tokens.items():
            if hmac.compare_digest(presented, token):
                found = seller
        return found
