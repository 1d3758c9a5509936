"""The buyer disputes a deduction made at their return's inspection: the case goes to support
with its history (handlers/workflow/deductions.py, docs/conversations.md)."""

from __future__ import annotations

from bot.domain.enums import EscalationReason, Role
from bot.engine.context import Context
from bot.engine.errors import Stale
from bot.engine.router import Router
from bot.services import cases
from handlers.payloads import DisputeDeduction
from handlers.workflow import desk
from handlers.workflow.access import owned_case
from handlers.workflow.deductions import DISPUTED, disputable

router = Router()


@router.button(DisputeDeduction)
async def dispute(ctx: Context, data: DisputeDeduction) -> None:
    case = await owned_case(ctx, data.case_id)
    if await disputable(ctx, case) is None:
        raise Stale()
    await cases.record(
        ctx.tx, case, ctx.now, DISPUTED, role=Role.BUYER, actor_id=ctx.event.author.id
    )
    ctx.expect(None)
    await desk.escalate(ctx, case, EscalationReason.DEDUCTION_DISPUTED, role=Role.BUYER)
