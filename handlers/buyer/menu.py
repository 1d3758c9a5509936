"""/start, /help, /orders, /language, /cancel, and the answer to anything unexpected."""

from __future__ import annotations

from bot.engine.context import Context, button, buyer_reader
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.rendering import LOCALES
from bot.services import orders, parties
from handlers.buyer.orders import ask_order, open_order
from handlers.buyer.person import person
from handlers.payloads import Language, Menu
from handlers.workflow import claiming, deductions
from handlers.workflow.menu import menu_keyboard, show_menu

router = Router()


@router.command("start")
async def start(ctx: Context, args: str) -> None:
    if claiming.is_link_token(args):
        # A parcel card's signed link (docs/claiming.md).
        await claiming.open_link(ctx, args)
        return
    if args.startswith("order_") and args.removeprefix("order_").isdigit():
        # A deep link from the seller's message opens that order (if it is the sender's).
        await open_order(ctx, int(args.removeprefix("order_")), flow="problem")
        return
    ctx.expect(None)
    ctx.reply("buyer/welcome", buttons=menu_keyboard(), name=ctx.actor.buyer.name)


@router.command("help")
async def help_(ctx: Context, _args: str) -> None:
    ctx.reply("buyer/help", is_decider=bool(ctx.actor.seller_ids))


@router.command("cancel")
async def cancel_step(ctx: Context, _args: str) -> None:
    """Stop what the chat waits for; a case already with the seller goes on."""
    show_menu(ctx, "buyer/stopped")


@router.command("orders")
async def list_orders(ctx: Context, _args: str) -> None:
    mine = await orders.buyer_orders(ctx.tx, ctx.actor.buyer.telegram_id)
    ctx.reply("buyer/orders", orders=mine, buttons=menu_keyboard() if mine else ())


@router.command("language")
async def choose_language(ctx: Context, _args: str) -> None:
    ctx.reply(
        "buyer/language",
        buttons=[[button("language", Language(code=code), code=code) for code in LOCALES]],
    )


@router.button(Language)
async def set_language(ctx: Context, data: Language) -> None:
    if data.code not in LOCALES:
        raise Stale()
    await parties.set_language(ctx.tx, ctx.actor.buyer, data.code)
    ctx.reader = buyer_reader(ctx.actor.buyer)
    ctx.answer("buyer/language_set")
    show_menu(ctx, "buyer/language_set")


@router.button(Menu)
async def menu(ctx: Context, data: Menu) -> None:
    match data.action:
        case "problem" | "return" | "cancel":
            await ask_order(ctx, flow=data.action)
        case "orders":
            await list_orders(ctx, "")
        case "language":
            await choose_language(ctx, "")
        case "person":
            await person(ctx)
        case _:
            raise Stale()


@router.otherwise
async def anything_else(ctx: Context) -> None:
    if ctx.event.text and await deductions.offer_dispute(ctx):
        return
    if ctx.event.text and claiming.looks_like_order_number(ctx.event.text):
        await claiming.order_typed(ctx, ctx.event.text)
        return
    show_menu(ctx, "buyer/not_understood")
