"""Every query lives in a repository: no other module of `mla/` or `workers/` builds or runs SQL.

A module "builds a query" when it calls a statement constructor imported from SQLAlchemy (`select`,
`insert`, `update`, `delete`, `text`, `union`, `exists`, …) or a `func.<name>(…)`; it "runs one" when it
calls `execute`, `scalar`, `scalars`, `get`, `add`, `delete`, `flush`, … on a session or a connection:
a name called `session`/`connection` (or ending so), a parameter annotated as one, or what a
sessionmaker's or engine's context manager gives. Services keep `session.begin()`: a use case's
transaction is theirs.
"""

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("mla", "workers")

STATEMENT_BUILDERS = frozenset(
    {"select", "insert", "update", "delete", "text", "union", "union_all", "exists", "values", "lambda_stmt"}
)
SESSION_CALLS = frozenset(
    {"execute", "scalar", "scalars", "stream", "stream_scalars", "get", "get_one", "add", "add_all", "delete"}
    | {"merge", "flush", "refresh"}
)
SESSION_NAMES = frozenset({"session", "connection", "conn"})
SESSION_TYPES = ("Session", "Connection")
SESSION_FACTORIES = ("sessionmaker", "connect", "begin")

# Modules that may hold queries although not named repository.py: each with its reason.
ALLOWED = {
    "mla/db.py": "engine, sessions and transaction helpers",
    "mla/pagination.py": "the keyset page runner repositories call",
    "mla/database_roles.py": "creates the runtime role through the owner's connection (DDL, not data)",
    "mla/health.py": "the readiness probe's SELECT 1",
}


class Query(NamedTuple):
    module: str
    line: int
    call: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.call}"


def _sqlalchemy_names(tree: ast.Module) -> tuple[frozenset[str], frozenset[str]]:
    """Local names of the statement builders and `func` imported from SQLAlchemy, and of SQLAlchemy
    modules themselves (`import sqlalchemy as sa`)."""
    builders: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            builders.update(alias.asname or alias.name for alias in node.names if _is_builder(alias.name))
        elif isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name for alias in node.names if alias.name.startswith("sqlalchemy"))
    return frozenset(builders), frozenset(modules)


def _is_builder(name: str) -> bool:
    return name in STATEMENT_BUILDERS or name == "func"


def _session_names(tree: ast.Module) -> frozenset[str]:
    """Names a session or connection is bound to in this module: by name, by annotation, or by a
    `with sessionmaker() as reader` / `with engine.connect() as c`."""
    names = set(SESSION_NAMES)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            if ast.unparse(node.annotation).endswith(SESSION_TYPES):
                names.add(node.arg)
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            factory = node.context_expr.func if isinstance(node.context_expr, ast.Call) else None
            if factory is not None and (_receiver_name(factory) or "").endswith(SESSION_FACTORIES):
                names.add(node.optional_vars.id)
    return frozenset(names)


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _names_session(name: str | None, sessions: frozenset[str]) -> bool:
    return name is not None and (name in sessions or name.endswith(("_session", "_connection")))


class _Names(NamedTuple):
    builders: frozenset[str]
    modules: frozenset[str]
    sessions: frozenset[str]


def _query_call(call: ast.Call, known: _Names) -> str | None:
    """The query this call builds or runs, as written; None for any other call."""
    builders, modules, sessions = known
    function = call.func
    if isinstance(function, ast.Name) and function.id in builders:
        return function.id
    if not isinstance(function, ast.Attribute):
        return None
    owner = function.value
    if isinstance(owner, ast.Name) and owner.id in builders and owner.id.endswith("func"):
        return f"{owner.id}.{function.attr}"
    if isinstance(owner, ast.Name) and owner.id in modules and _is_builder(function.attr):
        return f"{owner.id}.{function.attr}"
    if isinstance(owner, ast.Attribute) and owner.attr == "func" and _receiver_name(owner.value) in modules:
        return f"func.{function.attr}"
    if function.attr in SESSION_CALLS and _names_session(_receiver_name(owner), sessions):
        return f"{_receiver_name(owner)}.{function.attr}"
    return None


def queries_in(source: str, module: str) -> list[Query]:
    """Every call in `source` that builds or runs a query."""
    tree = ast.parse(source)
    known = _Names(*_sqlalchemy_names(tree), _session_names(tree))
    found = (
        Query(module, node.lineno, call)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (call := _query_call(node, known)) is not None
    )
    return sorted(found)


def may_hold_queries(module: str) -> bool:
    path = Path(module)
    if path.name in ("repository.py", "models.py") or path.name.endswith("_repository.py"):
        return True
    return module in ALLOWED


def scanned_modules() -> Iterator[str]:
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix()


def test_no_module_but_a_repository_builds_or_runs_a_query() -> None:
    misplaced = [
        query
        for module in scanned_modules()
        if not may_hold_queries(module)
        for query in queries_in((ROOT / module).read_text(), module)
    ]
    assert not misplaced, "queries outside a repository (move them to the domain's repository.py):\n" + "\n".join(
        map(str, misplaced)
    )


def test_the_allowlist_names_modules_that_exist() -> None:
    modules = set(scanned_modules())
    assert not [module for module in ALLOWED if module not in modules]


SERVICE_WITH_QUERIES = """
import sqlalchemy as sa
from sqlalchemy import func, select as pick
from sqlalchemy.dialects.postgresql import insert

async def close_case(session, case_id, rows, db: AsyncSession, sessionmaker):
    rows.add(case_id)                                   # a set: not a query
    await session.execute(pick(Case).where(Case.id == case_id))
    await session.execute(insert(Case).values(id=case_id))
    count = sa.select(func.count())
    await db_session.flush()
    await db.get(Case, case_id)
    async with sessionmaker() as reader:
        await reader.stream(count)
    return await self.connection.scalar(sa.func.now())
"""


def test_the_detector_names_each_query_a_service_builds_or_runs() -> None:
    found = [(query.line, query.call) for query in queries_in(SERVICE_WITH_QUERIES, "mla/cases/service.py")]

    assert found == [
        (8, "pick"),
        (8, "session.execute"),
        (9, "insert"),
        (9, "session.execute"),
        (10, "func.count"),
        (10, "sa.select"),
        (11, "db_session.flush"),
        (12, "db.get"),
        (14, "reader.stream"),
        (15, "connection.scalar"),
        (15, "func.now"),
    ]


def test_the_detector_ignores_dictionaries_sets_and_transactions() -> None:
    source = (
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def act(session, headers, seen):\n"
        "    async with session.begin():\n"
        "        headers.update(x=1)\n"
        "        seen.add(headers.get('x'))\n"
    )

    assert queries_in(source, "mla/cases/service.py") == []


def test_repositories_and_models_may_hold_queries_services_may_not() -> None:
    assert may_hold_queries("mla/cases/repository.py")
    assert may_hold_queries("mla/alerts/delivery_repository.py")
    assert may_hold_queries("mla/cases/models.py")
    assert not may_hold_queries("mla/cases/service.py")
    assert not may_hold_queries("mla/cases/repository_helpers.py")
