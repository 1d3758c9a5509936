"""The conversations. Each module is one conversation or one side of it; all of them are
transport-neutral and keep their state in the database."""

from bot.engine.router import Router


def routers() -> list[Router]:
    """Each conversation's router, in the order they merge into one (imported here, so that the
    packages import nothing on their own and modules can share helpers without import cycles)."""
    from handlers.buyer import (
        cancel,
        claims,
        delivery,
        disputes,
        follow_up,
        forget,
        menu,
        offers,
        orders,
        person,
        problem,
        returns,
        survey,
        understood,
    )
    from handlers.seller import (
        cancellations,
        execution,
        failed_refunds,
        ozon,
        pending,
        questions,
        ratings,
        report,
        reshipment,
    )
    from handlers.seller import offers as seller_offers
    from handlers.seller import returns as seller_returns
    from handlers.support import agents, sweeps
    from handlers.support import forget as support_forget

    first = (
        seller_offers,
        seller_returns,
        cancellations,
        execution,
        failed_refunds,
        ozon,
        reshipment,
        questions,
        ratings,
        pending,
        report,
    )
    # Last: the buyer's menu is the answer to anything no other handler takes.
    last = (
        person,
        menu,
        orders,
        claims,
        problem,
        returns,
        cancel,
        offers,
        disputes,
        delivery,
        survey,
        follow_up,
        understood,
    )
    return [module.router for module in (*first, agents, sweeps, support_forget, forget, *last)]


def build_router() -> Router:
    """Every conversation's handlers in one router. Fails when a chat could wait in a state that
    no handler reads (handlers/workflow/awaiting.py)."""
    from handlers.support import strangers
    from handlers.workflow.awaiting import check_read

    router = Router()
    for part in routers():
        router.include(part)
    # In front of all of them: a stranger in the support group is turned away first, whatever
    # the command (handlers/support/strangers.py).
    strangers.guard(router)
    check_read(router)
    return router
