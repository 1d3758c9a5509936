"""Every refusal a handler can raise reaches the person, whatever rows it names.

A refusal rolls its handler's work back, so what it says must be settled before the rollback
expires the rows it names (a case, an offer). Rather than trust each handler, this finds every
`raise Refusal(...)` and `raise Stale(...)` (and of their subclasses) in the code, raises each
through the engine with real rows of the handler's transaction as its variables, and checks the
person reads it. A new refusal whose variables this test cannot fill fails it until a sample is
added below.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.domain.money import Money
from bot.engine.context import Context
from bot.engine.errors import Refusal, Stale
from bot.rendering import Reader
from bot.rendering.renderer import plain_text
from bot.services import cases
from bot.storage.models import Case, Offer
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import Desk

ROOT = Path(__file__).parent.parent
SOURCES = [ROOT / "handlers", ROOT / "bot"]


@dataclass(frozen=True)
class Site:
    where: str
    kind: type[Refusal]
    template: str
    audit: str | None
    variables: dict[str, ast.expr]

    def __str__(self) -> str:
        return f"{self.where} {self.template}"


def _refusal_kinds(trees: list[ast.Module]) -> dict[str, type[Refusal]]:
    """Refusal, Stale, and any class declared on them, by name (the classes the engine sees
    are Refusal or Stale once raised, so a subclass is raised here as its base)."""
    kinds: dict[str, type[Refusal]] = {"Refusal": Refusal, "Stale": Stale}
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in kinds:
                    bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                    base = next((kinds[b] for b in bases if b in kinds), None)
                    if base is not None:
                        kinds[node.name] = base
                        grew = True
    return kinds


def refusal_sites() -> list[Site]:
    files = sorted(path for source in SOURCES for path in source.rglob("*.py"))
    trees = [ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in files]
    kinds = _refusal_kinds(trees)
    sites = []
    for path, tree in zip(files, trees, strict=True):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            if not (isinstance(call.func, ast.Name) and call.func.id in kinds):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            kind = kinds[call.func.id]
            if call.args:
                first = call.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{where}: a refusal names its template literally, so this test can raise it"
                )
                template = first.value
            else:
                template = "common/stale"
            keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
            audit = keywords.pop("audit", None)
            sites.append(
                Site(
                    where,
                    kind,
                    template,
                    audit.value if isinstance(audit, ast.Constant) else None,
                    keywords,
                )
            )
    return sites


SITES = refusal_sites()


def test_the_refusals_are_found() -> None:
    templates = {site.template for site in SITES}
    assert {"support/not_escalated", "buyer/cannot_withdraw", "common/stale"} <= templates


def _sample(site: Site, name: str, expression: ast.expr, rows: dict[str, Any]) -> Any:
    """A value of the shape the raising code passes: a row of the transaction by its name, a
    string, an id, an amount of money, or a constant as written."""
    if isinstance(expression, ast.Constant):
        return expression.value
    if isinstance(expression, ast.Name) and expression.id in rows:
        return rows[expression.id]
    if isinstance(expression, ast.Name) and expression.id.endswith("_id"):
        return 7
    if isinstance(expression, ast.Call) and ast.unparse(expression.func) == "str":
        return "7"
    if isinstance(expression, ast.Attribute) and expression.attr in ("requested", "refundable"):
        return Money.of("600", "RUB")
    pytest.fail(f"{site}: add a sample for {name}={ast.unparse(expression)} to this test")


@pytest.mark.parametrize("site", SITES, ids=str)
async def test_every_refusal_reaches_the_person_after_the_rollback(
    desk: Desk, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = desk.buyer("anna")
    await describe_defect(desk, price="5000")  # a case with an offer waiting for the seller
    case_id = (await desk.latest_case()).id
    [offer] = await desk.offers(case_id)
    await anna.send("/start")
    payload = anna.button("Something is wrong")

    async def refusing(ctx: Context, _data: object) -> None:
        case = await cases.lock_case(ctx.tx, case_id)
        rows = {"case": case, "offer": await ctx.tx.session.get(Offer, offer.id)}
        case.taken_by_name = "changed, then rolled back"  # type: ignore[union-attr]
        variables = {n: _sample(site, n, e, rows) for n, e in site.variables.items()}
        if site.kind is Stale:
            raise Stale(site.template, **variables)
        raise Refusal(site.template, audit=site.audit, **variables)

    router = desk.sandbox.app.engine.router
    monkeypatch.setitem(router.payloads, "m", (router.payloads["m"][0], refusing))
    outcome = await anna.press(payload)

    assert not outcome.failed and outcome.callback_answer
    async with desk.db.session() as session:
        case = await session.get(Case, case_id)
        assert case is not None and case.taken_by_name is None  # the handler's work is undone
        rows = {"case": case, "offer": await session.get(Offer, offer.id)}
        variables = {n: _sample(site, n, e, rows) for n, e in site.variables.items()}
        expected = desk.sandbox.app.renderer.render(
            site.template, Reader("en", "Europe/Berlin"), now=desk.clock.now(), **variables
        )
    audited = [a.action for a in await desk.audit()]
    assert plain_text(outcome.callback_answer) == plain_text(expected)
    assert audited == ([site.audit] if site.audit else [])


async def test_a_refusal_by_message_names_its_rows_too(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, for a refusal answered with a message (to a command) rather than a pop-up."""
    sam = desk.staff("sam")
    await describe_defect(desk, price="5000")
    case_id = (await desk.latest_case()).id

    async def refusing(ctx: Context, _args: str) -> None:
        raise Refusal("support/not_escalated", case=await cases.lock_case(ctx.tx, case_id))

    monkeypatch.setitem(desk.sandbox.app.engine.router.commands, "take", refusing)
    outcome = await sam.send("/take")
    assert not outcome.failed
    assert (
        sam.last.plain
        == f"Case #{case_id} is not with support any more: it is waiting for the seller."
    )
    assert await desk.audit() == []
