"""No import circles in core: every module of ``core/kpispec`` is parsed with ``ast``,
its imports of other kpispec modules make a graph, and the graph has no cycle.

Both kinds of import count:

- module-level imports (run when the module is imported), and
- deferred imports inside a function, which this codebase uses a lot to keep
  ``import kpispec`` and the CLI's start fast. A deferred import does not fail at
  import time, but a circle through one is still two modules that each need the
  other: neither can be understood, tested or moved on its own. So they count too,
  and a cycle's report says which edges are deferred.

Not counted: imports under ``if TYPE_CHECKING:`` (never run; they exist only for
annotations), and the implicit import of a parent package (``import kpispec.spec.model``
runs ``kpispec/__init__.py`` first; counting that would put every module in a circle
with the package that re-exports the public API).
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"
PACKAGE = CORE / "kpispec"

#: Cycles allowed for now, each a sorted tuple of module names with a comment saying
#: what removes it. Only cycles inside kpispec.compile or through kpispec.spec.snippets
#: may be listed (that code is being restructured by the compiler-stages work, issue 15);
#: an entry reads e.g.
#:     ("kpispec.compile.a", "kpispec.compile.b"),  # removed by the compiler-stages work
ALLOWED: set[tuple[str, ...]] = set()

Edges = dict[str, dict[str, set[str]]]  # module -> imported module -> {"module-level", "deferred"}


def _modules() -> dict[str, Path]:
    found = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = list(file.relative_to(CORE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = file
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
              modules: dict[str, Path]) -> list[str]:
    """The kpispec modules one import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from . import x, from ..spec import y
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[:len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        # from kpispec import _cache loads the submodule; from kpispec import Project, the package
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                 for alias in node.names]
    found = []
    for name in names:
        while name and name not in modules:  # import kpispec.x.y where y is not a module
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] == "kpispec":
            found.append(name)
    return found


def import_graph() -> Edges:
    modules = _modules()
    edges: Edges = {name: {} for name in modules}
    for module, file in modules.items():
        is_package = file.name == "__init__.py"

        def visit(node: ast.AST, deferred: bool, module: str = module,
                  is_package: bool = is_package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    for other in child.orelse:
                        visit(other, deferred)
                    continue
                inner = deferred or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _imported(child, module, is_package, modules):
                        if target != module:
                            kind = "deferred" if inner else "module-level"
                            edges[module].setdefault(target, set()).add(kind)
                visit(child, inner)

        visit(ast.parse(file.read_text(encoding="utf-8"), str(file)), False)
    return edges


def cycles(edges: Edges) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return sorted(found)


def _describe(component: tuple[str, ...], edges: Edges) -> str:
    inside = set(component)
    lines = [f"{source} -> {target} ({', '.join(sorted(kinds))})"
             for source in component for target, kinds in sorted(edges[source].items())
             if target in inside]
    return "  " + "\n  ".join(lines)


def test_core_has_no_import_cycles() -> None:
    edges = import_graph()
    found = [c for c in cycles(edges) if c not in ALLOWED]
    assert not found, "import cycles in core/kpispec:\n" + "\n".join(
        _describe(c, edges) for c in found)


def test_allowed_cycles_are_only_the_compilers_and_still_exist() -> None:
    current = set(cycles(import_graph()))
    for cycle in ALLOWED:
        assert all(m.startswith("kpispec.compile") for m in cycle) or (
            "kpispec.spec.snippets" in cycle), f"{cycle}: only the compiler's cycles may be allowed"
        assert cycle in current, f"{cycle} is gone: delete it from ALLOWED"


def test_the_graph_sees_both_kinds_of_import() -> None:
    edges = import_graph()
    assert "module-level" in edges["kpispec.plugins"]["kpispec._plugin_checks"]
    assert edges["kpispec.plugins"]["kpispec._core_types"] == {"deferred"}
    assert "kpispec.project" in edges["kpispec"]  # from kpispec.project import Project, …
    assert edges["kpispec._plugin_probe"]["kpispec.plugins"] == {"module-level"}


def test_a_cycle_is_found_and_reported_with_its_kinds() -> None:
    edges: Edges = {"a": {"b": {"module-level"}}, "b": {"c": {"deferred"}},
                    "c": {"a": {"deferred"}}, "d": {"a": {"module-level"}}}
    assert cycles(edges) == [("a", "b", "c")]
    assert "b -> c (deferred)" in _describe(("a", "b", "c"), edges)
