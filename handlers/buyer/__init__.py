"""The buyer's side: the menu, picking an order, describing a problem, returns, cancellations,
and answering offers."""

from bot.engine.router import Router
from handlers.buyer import cancel, menu, offers, orders, problem, returns

router = Router()
for module in (menu, orders, problem, returns, cancel, offers):
    router.include(module.router)
