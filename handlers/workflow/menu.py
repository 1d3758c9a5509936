"""The buyer's menu: where a conversation that ends leaves the buyer."""

from __future__ import annotations

from bot.engine.context import Context, Keyboard, button, column
from handlers.payloads import Menu


def menu_keyboard() -> Keyboard:
    return column(
        button("menu_problem", Menu(action="problem")),
        button("menu_return", Menu(action="return")),
        button("menu_cancel", Menu(action="cancel")),
        button("menu_orders", Menu(action="orders")),
        button("menu_person", Menu(action="person")),
    )


def show_menu(ctx: Context, template: str = "buyer/menu", **variables: object) -> None:
    ctx.expect(None)
    ctx.reply(template, buttons=menu_keyboard(), name=ctx.actor.buyer.name, **variables)
