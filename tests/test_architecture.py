"""The shape of the code: imports form no cycle (between modules, counting imports inside functions and those under
`if TYPE_CHECKING:`, and between packages), and SQL lives in store/ only. Read from the source with `ast`, so a cycle
hidden by a function-level or a type-checking-only import is found as well: such an import still says that one
module needs the other, and a module that needs its dependant belongs with it or below a shared one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "llamacompare"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def imports_of(module: str) -> set[str]:
    """The llamacompare modules `module` imports anywhere in its file (top level, inside functions, or under
    `if TYPE_CHECKING:`)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in MODULES:
                    out.add(full)  # `from llamacompare import formatting`: the submodule
                elif base in MODULES:
                    out.add(base)
    return out - {module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each a set of nodes in a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_of(module: str) -> str:
    """llamacompare.models.client -> llamacompare.models; a top-level module is its own node."""
    return ".".join(module.split(".")[:2])


def test_the_cycle_finder_finds_a_cycle_through_three_nodes() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}}) == []


def test_the_import_reader_sees_imports_inside_functions_and_for_type_checking() -> None:
    assert "llamacompare.runner.engine" in imports_of("llamacompare.pipeline")  # in run_plan
    assert "llamacompare.formatting" in imports_of("llamacompare.reports.html")
    assert "llamacompare.scoring.recommend" in imports_of("llamacompare.cli.run")  # under `if TYPE_CHECKING:`


def test_no_import_cycle_between_modules() -> None:
    graph = {m: imports_of(m) for m in MODULES}
    assert cycles(graph) == []


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for m in MODULES:
        for target in imports_of(m):
            a, b = package_of(m), package_of(target)
            if a != b and b != "llamacompare":  # the root package only re-exports, lazily
                graph.setdefault(a, set()).add(b)
    assert cycles(graph) == []


SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA)\b",
                 re.IGNORECASE | re.DOTALL)


def test_sql_and_sqlite_live_in_store_only() -> None:
    outside = [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts]
    offenders = []
    for path in outside:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: SQL text")
            if isinstance(node, ast.Attribute) and node.attr == "conn":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: store.conn")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "sqlite3" in names:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: imports sqlite3")
    assert offenders == []


def test_every_import_inside_a_function_says_why() -> None:
    """An import inside a function is there for start-up time (or an optional module) and says so in a comment on
    its line or the one above; any other import belongs at the top of the module."""
    silent = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                    if "#" not in lines[node.lineno - 1] and not above.startswith("#"):
                        silent.append(f"{module}:{node.lineno}")
    assert not silent, f"imports inside functions without a comment saying why: {silent}"
