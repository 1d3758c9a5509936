"""The shop API (docs/shop-api.md): orders pushed over HTTP to a real aiohttp server on loopback,
written to real SQLite and PostgreSQL, through the import's own reading and upsert."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from pydantic import SecretStr
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config.settings import ApiSettings, SettingsError
from bot.config.shop import load_shop
from bot.runtime.http_server import Listen, serving, web_app
from bot.runtime.shop_api import SellerTokens, shop_api
from bot.runtime.shop_api.openapi import document
from bot.services.importer import OrderIn
from bot.storage.database import Database
from bot.storage.models import Order, OrderItem
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode, free_port, running_bot
from tests.desk import TEST_SHOP
from tests.test_cli import returndesk
from tests.test_import import good

ACME = "acme-token-0123456789abcdef0123456789abcdef"
DRAGON = "dragon-token-0123456789abcdef0123456789abcde"
LIMIT = 64 * 1024


@dataclass
class Api:
    url: str
    http: aiohttp.ClientSession
    app: App | None = None  # None: a server in another process

    async def push(
        self, body: Any, token: str | None = ACME, *, raw: bytes | None = None
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(self.url + "/api/orders", data=data, headers=headers) as answer:
            return answer.status, await answer.json(), answer

    async def orders(self) -> list[tuple[str, str, str]]:
        assert self.app is not None
        async with self.app.db.session() as session:
            rows = await session.execute(
                select(Order.seller_id, Order.marketplace, Order.number).order_by(Order.number)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]


def settings(**changes: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "tokens": SecretStr(f"acme:{ACME}, lucky-dragon:{DRAGON}"),
        "tokens_dir": None,
        "max_body_bytes": LIMIT,
    }
    return ApiSettings(**{**values, **changes})


@pytest.fixture
async def api(db: Database, clock: FakeClock) -> AsyncIterator[Api]:
    app = await build_app(db=db, config=TEST_SHOP, clock=clock, migrate=False)
    try:
        async with (
            serving(web_app([shop_api(app, settings())]), Listen("127.0.0.1", 0)) as port,
            aiohttp.ClientSession() as http,
        ):
            yield Api(f"http://127.0.0.1:{port}", http, app)
    finally:
        await app.close()


# -- authentication ----------------------------------------------------------------------------


async def test_without_a_sellers_token_nothing_is_written(api: Api) -> None:
    body = {"orders": [good("Z-1")]}
    for token in (None, "", "x" * 40, ACME[:-1], ACME + "0", "acme"):
        status, answer, response = await api.push(body, token)
        assert status == 401, token
        assert "error" in answer
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="returndesk"')
    # Another scheme carrying the right token is not a bearer token.
    async with api.http.post(
        api.url + "/api/orders", json=body, headers={"Authorization": f"Basic {ACME}"}
    ) as response:
        assert response.status == 401
    assert await api.orders() == []


async def test_a_token_writes_only_its_own_sellers_orders(api: Api) -> None:
    # lucky-dragon's token carrying acme's orders (and one of its own): refused whole.
    body = [good("Z-1", seller="lucky-dragon"), good("Z-2"), good("Z-3", seller=" acme ")]
    status, answer, _ = await api.push(body, DRAGON)
    assert status == 403
    assert "lucky-dragon" in answer["error"] and "order 2, order 3" in answer["error"]
    assert await api.orders() == []
    status, answer, _ = await api.push([good("Z-1", seller="lucky-dragon")], DRAGON)
    assert (status, answer["created"]) == (200, 1)
    assert await api.orders() == [("lucky-dragon", "ozon", "Z-1")]


def test_tokens_come_from_the_environment_or_a_folder_never_two_places(tmp_path: Path) -> None:
    shop = load_shop(TEST_SHOP)
    folder = tmp_path / "tokens"
    folder.mkdir()
    (folder / "lucky-dragon").write_text(DRAGON + "\n")
    (folder / "..data").mkdir()  # what Kubernetes mounts beside the files
    tokens = SellerTokens.load(settings(tokens=SecretStr(f"acme:{ACME}"), tokens_dir=folder), shop)
    assert tokens.sellers == ["acme", "lucky-dragon"]
    assert tokens.seller_for(DRAGON) == "lucky-dragon"
    assert tokens.seller_for(ACME) == "acme"
    assert tokens.seller_for(DRAGON + "x") is None

    def problems(**changes: Any) -> str:
        with pytest.raises(SettingsError) as refused:
            SellerTokens.load(settings(**changes), shop)
        said = str(refused.value)
        assert ACME not in said and DRAGON not in said  # a problem never shows a token
        return said

    assert "'nobody' is not in the shop file" in problems(tokens=SecretStr(f"nobody:{ACME}"))
    assert "second token" in problems(tokens_dir=folder)  # lucky-dragon in both places
    assert "share a token" in problems(tokens=SecretStr(f"acme:{ACME},bizco:{ACME}"))
    assert "not 32 to 512" in problems(tokens=SecretStr("acme:short"))
    assert "seller:token pairs" in problems(tokens=SecretStr(ACME))


# -- idempotence -------------------------------------------------------------------------------


async def test_the_same_push_twice_changes_nothing_the_second_time(api: Api) -> None:
    body = {"orders": [good("Z-1"), good("Z-2")]}
    status, first, _ = await api.push(body)
    assert status == 200
    assert (first["created"], first["updated"], first["unchanged"], first["refused"]) == (
        2,
        0,
        0,
        0,
    )
    assert first["orders"] == [
        {"position": "order 1", "result": "created", "marketplace": "ozon", "number": "Z-1"},
        {"position": "order 2", "result": "created", "marketplace": "ozon", "number": "Z-2"},
    ]
    status, again, _ = await api.push(body)
    assert status == 200
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = [good("Z-1"), good("Z-2", status="completed", completed_at="2026-11-20T10:00:00Z")]
    status, third, _ = await api.push(changed)
    assert [o["result"] for o in third["orders"]] == ["unchanged", "updated"]
    assert await api.orders() == [("acme", "ozon", "Z-1"), ("acme", "ozon", "Z-2")]
    assert api.app is not None
    async with api.app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OrderItem)) == 2


# -- bad bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"{not json", "cannot read JSON"),
        (b"", "cannot read JSON"),
        (b'{"orders": 5}', 'expected {"orders": [...]}'),
        (b'"orders"', 'expected {"orders": [...]}'),
        (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
        ('[{"number": "Z-1"}]'.encode("utf-16"), "not UTF-8"),
    ],
)
async def test_a_body_that_is_not_the_imports_json_is_400(api: Api, raw: bytes, said: str) -> None:
    status, answer, _ = await api.push(None, raw=raw)
    assert status == 400
    assert said in answer["error"]
    assert await api.orders() == []


async def test_a_body_over_the_limit_is_413_whether_announced_or_streamed(api: Api) -> None:
    padding = "x" * 200
    body = [good(f"Z-{n}", tracking_number=None, buyer={"name": padding[:199]}) for n in range(200)]
    raw = json.dumps(body).encode()
    assert len(raw) > LIMIT
    status, answer, _ = await api.push(None, raw=raw)
    assert status == 413 and "RETURNDESK_API_MAX_BODY_BYTES" in answer["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read until too much
        for start in range(0, len(raw), 4096):
            yield raw[start : start + 4096]

    async with api.http.post(
        api.url + "/api/orders", data=chunks(), headers={"Authorization": f"Bearer {ACME}"}
    ) as response:
        assert response.status == 413
    assert await api.orders() == []
    status, _, _ = await api.push(body[:40])  # under the limit: all of it
    assert status == 200 and len(await api.orders()) == 40


async def test_a_bad_order_is_refused_with_its_field_and_the_good_ones_land(api: Api) -> None:
    body = [
        good("Z-1"),
        good("Z-2", paid="-5"),
        "not an order",
        good("Z-4", items=[{"sku": "K-1", "title": "Kettle", "quantity": 0, "unit_price": "1"}]),
        good("Z-5"),
    ]
    status, answer, _ = await api.push(body)
    assert status == 200
    assert (answer["created"], answer["refused"]) == (2, 3)
    results = {o["position"]: o for o in answer["orders"]}
    assert results["order 2"]["number"] == "Z-2"
    assert results["order 2"]["error"].startswith("paid: ")
    assert results["order 3"] == {
        "position": "order 3",
        "result": "refused",
        "error": "an order must be an object",
    }
    assert results["order 4"]["error"].startswith("items.0.quantity: ")
    assert await api.orders() == [("acme", "ozon", "Z-1"), ("acme", "ozon", "Z-5")]


# -- concurrency -------------------------------------------------------------------------------


async def test_concurrent_pushes_of_the_same_orders_agree(api: Api) -> None:
    """Four pushes at once, each of 30 orders, overlapping: every order is created once, by one
    push, and the others find it there; none is refused by the database's unique key."""
    pushes = [
        [good(f"Z-{n:03}", buyer={"telegram_id": 5000 + n}) for n in range(start, start + 30)]
        for start in (0, 10, 20, 5)
    ]
    pushes[1].reverse()  # another order of rows, so two pushes meet from both ends
    answers = await asyncio.gather(*(api.push(body) for body in pushes))
    assert all(status == 200 for status, _, _ in answers)
    assert all(answer["refused"] == 0 for _, answer, _ in answers), answers
    created: dict[str, int] = {}
    for _, answer, _ in answers:
        for order in answer["orders"]:
            assert order["result"] in ("created", "unchanged")
            if order["result"] == "created":
                created[order["number"]] = created.get(order["number"], 0) + 1
    assert sorted(created) == [f"Z-{n:03}" for n in range(50)]
    assert set(created.values()) == {1}
    assert len(await api.orders()) == 50


# -- the OpenAPI description -------------------------------------------------------------------


def _validator(described: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource(contents=described, specification=DRAFT202012)
    )
    rooted = json.loads(json.dumps(schema).replace('"#/components/', '"urn:openapi#/components/'))
    return Draft202012Validator(rooted, registry=registry)


async def test_the_openapi_description_is_served_and_true(api: Api) -> None:
    async with api.http.get(api.url + "/api/openapi.json") as response:
        assert response.status == 200
        described = await response.json()
    assert described == document()
    validate_openapi(described)
    assert described["openapi"].startswith("3.1")
    # A request for every documented path, method and status, and only those.
    over_limit = b"[" + b" " * LIMIT + b"]"
    cases: dict[tuple[str, str, str], Any] = {
        ("/api/orders", "post", "200"): ([good("Z-1"), good("Z-2", paid="x")], ACME),
        ("/api/orders", "post", "400"): (b"{", ACME),
        ("/api/orders", "post", "401"): ([good("Z-3")], None),
        ("/api/orders", "post", "403"): ([good("Z-4")], DRAGON),
        ("/api/orders", "post", "413"): (over_limit, ACME),
        ("/api/openapi.json", "get", "200"): None,
    }
    documented = {
        (path, method, status)
        for path, operations in described["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    assert documented == set(cases)
    for (path, method, status), case in cases.items():
        answer = described["paths"][path][method]["responses"][status]
        if method == "get":
            async with api.http.get(api.url + path) as response:
                got_status, body = response.status, await response.json()
        else:
            sent, token = case
            raw = sent if isinstance(sent, bytes) else None
            got_status, body, _ = await api.push(sent, token, raw=raw)
        assert str(got_status) == status, (path, status, body)
        content = answer["content"]["application/json"]
        _validator(described, content["schema"]).validate(body)
        if "example" in content:
            _validator(described, content["schema"]).validate(content["example"])


async def test_the_openapi_examples_are_what_the_server_does(api: Api) -> None:
    """The request examples validate against the request schema and the import's own model;
    pushed, the first gives exactly the documented answer, the second finds it all there."""
    described = document()
    operation = described["paths"]["/api/orders"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    request = _validator(described, body["schema"])
    dragon_orders = []
    for example in body["examples"].values():
        request.validate(example["value"])
        orders = (
            example["value"]["orders"] if isinstance(example["value"], dict) else example["value"]
        )
        dragon_orders.append(orders)
    OrderIn.model_validate(dragon_orders[0][0])
    documented = operation["responses"]["200"]["content"]["application/json"]["example"]
    status, answer, _ = await api.push(body["examples"]["object"]["value"], DRAGON)
    assert (status, answer) == (200, documented)
    status, again, _ = await api.push(body["examples"]["list"]["value"], DRAGON)
    assert [o["result"] for o in again["orders"]] == ["unchanged", "refused"]


# -- where it is served ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["aiogram-polling", "ptb-webhook"])
async def test_returndesk_run_serves_the_api_beside_polling_or_on_the_webhook(
    db: Database, clock: FakeClock, tmp_path: Path, mode: str
) -> None:
    app = await build_app(db=db, config=TEST_SHOP, clock=clock, migrate=False)
    own = free_port()
    try:
        async with (
            FakeBotAPI() as server,
            running_bot(
                app,
                server,
                Mode.parse(mode),
                media_dir=tmp_path / "media",
                routes=[shop_api(app, settings())],
                http=Listen("127.0.0.1", own),
            ) as service,
            aiohttp.ClientSession() as http,
        ):
            port = service.settings.webhook_port if service.settings.webhook_url else own
            api = Api(f"http://127.0.0.1:{port}", http, app)
            status, answer, _ = await api.push([good("Z-1")])
            assert (status, answer["created"]) == (200, 1)
            if service.settings.webhook_url:  # one server: nothing listens at the other port
                with pytest.raises(aiohttp.ClientConnectionError):
                    await http.get(f"http://127.0.0.1:{own}/api/openapi.json")
    finally:
        await app.close()
    assert await api.orders() == [("acme", "ozon", "Z-1")]


async def test_returndesk_serve_runs_the_web_server_alone(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RETURNDESK_HTTP_PORT": str(port),
        "RETURNDESK_API_TOKENS": f"acme:{ACME}",
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
    }
    env.pop("RETURNDESK_TELEGRAM_TOKEN", None)  # it needs no Telegram
    command = (sys.executable, "-m", "bot", "serve", "--config", str(TEST_SHOP))
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/openapi.json") as answer:
                        assert answer.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, "returndesk serve stopped"
                    await asyncio.sleep(0.1)
            status, answer, _ = await Api(f"http://127.0.0.1:{port}", http).push([good("Z-1")])
            assert (status, answer["created"]) == (200, 1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert ACME not in err.decode()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"RETURNDESK_HTTP_PORT": "0"}, "RETURNDESK_HTTP_PORT is 0"),
        ({"RETURNDESK_API_TOKENS": f"nobody:{ACME}"}, "'nobody' is not in the shop file"),
        ({"RETURNDESK_API_TOKENS": "acme:short"}, "RETURNDESK_API_TOKENS: the token of 'acme'"),
    ],
)
def test_returndesk_serve_says_what_keeps_it_from_starting(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    env = {
        "RETURNDESK_HTTP_PORT": str(free_port()),
        "RETURNDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        **env,
    }
    result = returndesk("serve", "--config", str(TEST_SHOP), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert said in result.stderr and "Traceback" not in result.stderr
    assert ACME not in result.stderr
