"""The shop API's OpenAPI 3.1 description, served at /api/openapi.json. An order's schema is the
import's own model's (OrderIn), so the two cannot drift apart; tests/test_shop_api.py checks
that every path and status here is one the server gives, and that the examples validate."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from bot.services.importer import OrderIn

REF = "#/components/schemas/{model}"

EXAMPLE_ORDER: dict[str, Any] = {
    "marketplace": "myshop",
    "number": "MS-1001",
    "seller": "lucky-dragon",
    "buyer": {
        "telegram_id": 100001,
        "name": "Иван",
        "language": "ru",
        "timezone": "Europe/Moscow",
    },
    "currency": "RUB",
    "paid": "3490.00",
    "shipping": "199.00",
    "status": "delivered",
    "placed_at": "2026-11-02T12:10:00+03:00",
    "shipped_at": "2026-11-04T09:30:00+03:00",
    "delivered_at": "2026-11-13T16:45:00+03:00",
    "tracking_number": "RR104455667CN",
    "items": [
        {"sku": "SPK-BT-20", "title": "Bluetooth speaker", "quantity": 1, "unit_price": "2990.00"}
    ],
}
EXAMPLE_BAD_ORDER: dict[str, Any] = {**EXAMPLE_ORDER, "number": "MS-1002", "paid": "-5"}
EXAMPLE_ANSWER: dict[str, Any] = {
    "created": 1,
    "updated": 0,
    "unchanged": 0,
    "refused": 1,
    "orders": [
        {"position": "order 1", "result": "created", "marketplace": "myshop", "number": "MS-1001"},
        {
            "position": "order 2",
            "result": "refused",
            "marketplace": "myshop",
            "number": "MS-1002",
            "error": "paid: Input should be greater than or equal to 0",
        },
    ],
}


def _error(example: str) -> dict[str, Any]:
    return {
        "description": example,
        "content": {
            "application/json": {
                "schema": {"$ref": REF.format(model="Error")},
                "example": {"error": example},
            }
        },
    }


def _unauthorized(description: str, example: str) -> dict[str, Any]:
    answer = _error(example)
    answer["description"] = description
    answer["headers"] = {
        "WWW-Authenticate": {
            "description": 'Bearer realm="returndesk", with error="invalid_token" for a wrong one',
            "schema": {"type": "string"},
        }
    }
    return answer


@lru_cache(maxsize=1)
def _built() -> dict[str, Any]:
    order = OrderIn.model_json_schema(ref_template=REF)
    schemas: dict[str, Any] = order.pop("$defs")
    order["description"] = (
        "An order as the import takes it (docs/importing.md): matched on seller, marketplace "
        "and number. Money may be a JSON number or a string; it is read as an exact decimal."
    )
    schemas["Order"] = order
    schemas["Error"] = {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
        "additionalProperties": False,
    }
    schemas["OrderResult"] = {
        "type": "object",
        "properties": {
            "position": {"type": "string", "description": "order N: the Nth of the body's list"},
            "result": {"enum": ["created", "updated", "unchanged", "refused"]},
            "marketplace": {"type": "string"},
            "number": {"type": "string"},
            "error": {"type": "string", "description": "why it was refused: field and reason"},
        },
        "required": ["position", "result"],
        "additionalProperties": False,
    }
    schemas["PushResult"] = {
        "type": "object",
        "properties": {
            **{
                name: {"type": "integer", "minimum": 0}
                for name in ("created", "updated", "unchanged", "refused")
            },
            "orders": {"type": "array", "items": {"$ref": REF.format(model="OrderResult")}},
        },
        "required": ["created", "updated", "unchanged", "refused", "orders"],
        "additionalProperties": False,
    }
    orders = {"type": "array", "items": {"$ref": REF.format(model="Order")}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ReturnDesk shop API",
            "version": "1",
            "description": (
                "Orders pushed by any shop, the same JSON the order import takes. Each order is "
                "checked and written on its own: a refused order is reported with its position "
                "and the good ones are written, all in one transaction. Pushing the same orders "
                "again updates them and never duplicates them."
            ),
        },
        "paths": {
            "/api/orders": {
                "post": {
                    "operationId": "pushOrders",
                    "summary": "Create or update the token's seller's orders",
                    "security": [{"sellerToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {
                                            "type": "object",
                                            "properties": {"orders": orders},
                                            "required": ["orders"],
                                        },
                                        orders,
                                    ]
                                },
                                "examples": {
                                    "object": {
                                        "summary": "{orders: [...]}",
                                        "value": {"orders": [EXAMPLE_ORDER, EXAMPLE_BAD_ORDER]},
                                    },
                                    "list": {
                                        "summary": "a bare list of orders",
                                        "value": [EXAMPLE_ORDER, EXAMPLE_BAD_ORDER],
                                    },
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": (
                                "The body was read: what became of each order. A refused order "
                                "is not written; the others are."
                            ),
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": REF.format(model="PushResult")},
                                    "example": EXAMPLE_ANSWER,
                                }
                            },
                        },
                        "400": _error(
                            "cannot read JSON: Expecting value: line 1 column 1 (char 0)"
                        ),
                        "401": _unauthorized(
                            "No bearer token, or not a seller's",
                            "the token is not a seller's",
                        ),
                        "403": _error(
                            "this token writes only the orders of seller 'lucky-dragon'; "
                            "order 2 names another seller"
                        ),
                        "413": _error(
                            "the body is larger than 1048576 bytes (RETURNDESK_API_MAX_BODY_BYTES)"
                        ),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "describe",
                    "summary": "This description",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 description of the shop API",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "sellerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "The seller's token, from RETURNDESK_API_TOKENS or "
                        "RETURNDESK_API_TOKENS_DIR (docs/shop-api.md); it writes only that "
                        "seller's orders."
                    ),
                }
            },
        },
    }


def document() -> dict[str, Any]:
    """A copy of the description, safe to change."""
    return copy.deepcopy(_built())
