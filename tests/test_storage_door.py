"""The storage's tricks stay behind its door (bot.storage.transaction, bot.storage.stores,
bot.storage.database): no module outside bot/storage imports a private storage name, a case
changes state only through `bot.services.cases.move`, and no handler reaches the session.

Read from the source with `ast`, so they hold for code no test happens to run. The tests that
guard the private modules themselves (test_one_greenlet.py, test_sqlite_driver.py) import them
on purpose and are not scanned.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_STORAGE = ("bot", "handlers", "benchmarks")
STORAGE = ROOT / "bot" / "storage"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for top in OUTSIDE_STORAGE:
        for path in sorted((ROOT / top).rglob("*.py")):
            if STORAGE not in path.parents:
                yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and part != "__init__" for part in dotted.split("."))


def _private_storage_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bot.storage") and _private(alias.name):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.storage"):
            module = node.module or ""
            for alias in node.names:
                if _private(module) or alias.name.startswith("_"):
                    yield node.lineno, f"{module}.{alias.name}"


def test_no_module_outside_storage_imports_a_private_storage_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path, tree in _modules()
        for line, name in _private_storage_imports(tree)
    ]
    assert found == [], "private storage names imported from outside bot/storage"


def test_the_scan_sees_a_private_import() -> None:
    tree = ast.parse(
        "from bot.storage import _held\n"
        "from bot.storage._one_greenlet import one_greenlet\n"
        "import bot.storage._sqlite_driver\n"
        "from bot.storage.database import _Session\n"
        "from bot.storage.database import Database\n"
    )
    assert [name for _, name in _private_storage_imports(tree)] == [
        "bot.storage._held",
        "bot.storage._one_greenlet.one_greenlet",
        "bot.storage._sqlite_driver",
        "bot.storage.database._Session",
    ]


# -- a case's state ------------------------------------------------------------------------------
THE_WAY = (ROOT / "bot" / "services" / "cases.py", "move")


def _state_assignments(tree: ast.Module) -> Iterator[tuple[int, str | None]]:
    """Where `<something>.state` is assigned (by `=`, an augmented assignment or setattr; or
    as `state=` of a step of a case's history), and in which function. Besides a case only a
    promise (a promise) has a state: every other `.state` is taken for a case's."""

    def casey(target: ast.expr) -> bool:
        return "promise" not in ast.unparse(target).lower()

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[int, str | None]]:
        line: int = getattr(node, "lineno", 0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr == "state" and casey(part.value):
                    yield line, function
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            named = node.args[1:2] and ast.unparse(node.args[1]) in ("'state'", '"state"')
            if called == "setattr" and named and casey(node.args[0]):
                yield line, function
            if called.endswith("cases.record") and any(k.arg == "state" for k in node.keywords):
                yield line, function
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, None)


def test_a_case_changes_state_only_through_cases_move() -> None:
    modules = [*_modules(), *((p, ast.parse(p.read_text(encoding="utf-8"))) for p in _storage())]
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in modules
        for line, function in _state_assignments(tree)
        if (path, function) != THE_WAY
    ]
    assert found == [], "a case's state changed other than by bot.services.cases.move"
    [tree] = [t for p, t in modules if p == THE_WAY[0]]
    assert [function for _, function in _state_assignments(tree)] == ["move"]


def test_the_scan_sees_a_state_changed_by_hand() -> None:
    tree = ast.parse(
        "async def handler(ctx, case):\n"
        "    case.state = CaseState.WANT\n"
        "    existing.state = CaseState.WANT\n"
        "    setattr(case, 'state', CaseState.WANT)\n"
        "    await cases.record(ctx.tx, case, ctx.now, 'x', state=CaseState.WANT)\n"
        "    promise.state = PromiseState.KEPT\n"  # not a case
    )
    assert [line for line, _ in _state_assignments(tree)] == [2, 3, 4, 5]


# -- handlers and the session -------------------------------------------------------------------
HANDLERS = ROOT / "handlers"


def _session_reads(tree: ast.Module) -> Iterator[int]:
    """Where `<something>.session` is read. Handlers pass `ctx.tx` to the services, which run
    the SQL on `tx.session` (bot/storage/transaction.py); pyproject.toml keeps sqlalchemy out of
    handlers, and this keeps the session itself out."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "session":
            yield node.lineno


def test_no_handler_reaches_the_session() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(HANDLERS.rglob("*.py"))
        for line in _session_reads(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert found == [], "a handler reached the session; pass ctx.tx to a service instead"


def test_the_scan_sees_a_session_reached() -> None:
    tree = ast.parse(
        "async def handler(ctx, offer_id):\n"
        "    await ctx.tx.session.get(Offer, offer_id)\n"
        "    await offers.lock(ctx.tx, offer_id)\n"
    )
    assert list(_session_reads(tree)) == [2]


def _storage() -> Iterator[Path]:
    return iter(sorted(STORAGE.rglob("*.py")))
