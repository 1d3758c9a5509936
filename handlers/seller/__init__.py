"""The seller's side: decisions on offers, return inspections, marking work done, answers."""

from bot.engine.router import Router
from handlers.seller import execution, offers, questions, returns

router = Router()
for module in (offers, returns, execution, questions):
    router.include(module.router)
