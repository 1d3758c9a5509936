"""The conversations. Each module is one conversation or one side of it; all of them are
transport-neutral and keep their state in the database."""

from bot.engine.router import Router


def build_router() -> Router:
    """Every conversation's handlers in one router (imported here, so that the packages import
    nothing on their own and modules can share helpers without import cycles). Fails when a
    chat could wait in a state that no handler reads (handlers/workflow/awaiting.py)."""
    from handlers.buyer import cancel, disputes, menu, offers, orders, person, problem, returns
    from handlers.seller import cancellations, execution, pending, questions
    from handlers.seller import offers as seller_offers
    from handlers.seller import returns as seller_returns
    from handlers.support import agents, strangers, sweeps
    from handlers.workflow.awaiting import check_read

    router = Router()
    for module in (
        seller_offers,
        seller_returns,
        cancellations,
        execution,
        questions,
        pending,
        agents,
        sweeps,
    ):
        router.include(module.router)
    # Last: the buyer's menu is the answer to anything no other handler takes.
    for module in (person, menu, orders, problem, returns, cancel, offers, disputes):
        router.include(module.router)
    # In front of all of them: a stranger in the support group is turned away first, whatever
    # the command (handlers/support/strangers.py).
    strangers.guard(router)
    check_read(router)
    return router
