"""What several buyer conversations share."""

from __future__ import annotations

from bot.engine.context import Context, Keyboard, button, column
from bot.engine.errors import Refusal, Stale
from bot.services import cases
from bot.storage.models import Case
from handlers.payloads import Menu


async def owned_case(ctx: Context, case_id: int) -> Case:
    """The sender's own case, locked; anyone else's is refused and audited."""
    case = await cases.lock_case(ctx.session, case_id)
    if case is None:
        raise Stale()
    if case.buyer_id != ctx.event.sender.id:
        raise Refusal("common/not_allowed", audit="buyer.foreign_case", case=str(case_id))
    return case


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
