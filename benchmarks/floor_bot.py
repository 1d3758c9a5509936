"""The floor: the least a bot can do for the same updates on the same aiogram stack.

Every message or button press gets one database write and one reply with one button; button
presses are answered too, as ReturnDesk answers them. Run by benchmarks/conversation.py.

Two options are not part of the floor, but ways to measure what things cost on this stack:
`--extra-reads N` adds N one-row reads to each update's transaction (conversation.py's
`--floor-extra-reads`), and `--settle-heap` sets its garbage collector as `returndesk run` does
(bot/runtime/heap.py: start-up frozen, the young generation collected less often;
conversation.py's `--floor-settles-heap`).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy import (
    BigInteger,
    Column,
    CursorResult,
    Integer,
    MetaData,
    Table,
    bindparam,
    insert,
    select,
)

from bot.runtime import heap
from bot.storage.database import Database

metadata = MetaData()
seen = Table(
    "floor_updates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
)
PROBE = select(seen.c.chat_id).where(seen.c.id == bindparam("id"))
NEXT = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Next", callback_data="next")]]
)


async def main(
    api: str, token: str, database: str, *, extra_reads: int = 0, settle_heap: bool = False
) -> None:
    # ReturnDesk's own engine set-up (its SQLite driver, WAL, the writer's turn), for fairness:
    # the floor differs in what it does with the database, not in how it talks to it.
    db = Database(database)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    dispatcher = Dispatcher()

    async def record(chat_id: int) -> None:
        async with db.transaction() as session:
            written = await session.execute(insert(seen).values(chat_id=chat_id))
            if extra_reads:  # by primary key, as most of ReturnDesk's reads are
                key = cast(CursorResult[Any], written).inserted_primary_key
                assert key is not None
                for _ in range(extra_reads):
                    await session.execute(PROBE, {"id": key[0]})

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        await record(message.chat.id)
        await message.answer("Got it.", reply_markup=NEXT)

    @dispatcher.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        assert query.message is not None
        await record(query.message.chat.id)
        await query.answer()
        await bot.send_message(query.message.chat.id, "Next step.", reply_markup=NEXT)

    if settle_heap:
        heap.settle()
    await dispatcher.start_polling(bot, handle_signals=True, polling_timeout=20)
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--extra-reads", type=int, default=0)
    parser.add_argument("--settle-heap", action="store_true")
    options = parser.parse_args()
    asyncio.run(
        main(
            options.api,
            options.token,
            options.database,
            extra_reads=options.extra_reads,
            settle_heap=options.settle_heap,
        )
    )
