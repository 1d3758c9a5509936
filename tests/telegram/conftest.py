"""Fixtures for tests of the Telegram side: the fake Bot API server and an app to run on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.storage.database import Database
from bot.testing.botapi import FakeBotAPI
from bot.testing.telegram import Mode
from tests.desk import TEST_SHOP

MODES = ["aiogram-polling", "aiogram-webhook", "ptb-polling", "ptb-webhook"]


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest.fixture
async def app(db: Database, clock: FakeClock) -> AsyncIterator[App]:
    app = await build_app(db=db, config=TEST_SHOP, clock=clock, migrate=False)
    yield app
    await app.close()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> Mode:
    return Mode.parse(request.param)
