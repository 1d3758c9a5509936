"""The conversations. Each module is one conversation or one side of it; all of them are
transport-neutral and keep their state in the database."""

from bot.engine.router import Router


def build_router() -> Router:
    from handlers import buyer, seller

    router = Router()
    router.include(seller.router)
    router.include(buyer.router)  # last: the buyer's menu is the fallback for everything
    return router
