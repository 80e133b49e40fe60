"""Meta-tests: every hook of kpispec.hookspecs is documented and tested.

A hook added to hookspecs.py without a ``## name(params)`` section in
docs/plugin-hooks.md (with a row per parameter and a ``# example: plugin``
block implementing it), a docstring covering each parameter, or a
``test_hook_<name>`` test somewhere under tests/ fails here, naming what is
missing.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from kpispec import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOK_DOCS = ROOT / "docs" / "plugin-hooks.md"

#: The hooks of the design contract (shared/DESIGN.md, "Hooks").
CONTRACT = {
    "register_metric_types": ["register"],
    "register_sources": ["register"],
    "register_sinks": ["register"],
    "register_spec_paths": ["register"],
    "register_template_context": ["register"],
    "register_lint_rules": ["register"],
    "modify_query": ["expression", "dialect", "context"],
}


def _hooks() -> dict[str, inspect.Signature]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {name: inspect.signature(fn)
            for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if getattr(fn, marker, None) is not None}


HOOKS = sorted(_hooks())


def _sections() -> dict[str, tuple[str, str]]:
    """Hook name → (parameters of its heading, text of its section)."""
    text = HOOK_DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    found = {}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        match = re.fullmatch(r"(\w+)\(([^)]*)\)\s*", heading)
        if match:
            found[match.group(1)] = (match.group(2), body)
    return found


def _test_functions() -> set[str]:
    names = set()
    for file in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    return names


def test_the_contract_hooks_are_exactly_the_hookspecs() -> None:
    assert {name: list(sig.parameters) for name, sig in _hooks().items()} == CONTRACT


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_functions(), (
        f"no test named test_hook_{hook} under tests/: add one that exercises the hook")


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    sections = _sections()
    parameters = list(_hooks()[hook].parameters)
    assert hook in sections, f"docs/plugin-hooks.md has no '## {hook}({', '.join(parameters)})' section"
    heading, body = sections[hook]
    assert [p.strip() for p in heading.split(",") if p.strip()] == parameters, (
        f"'## {hook}({heading})' does not match the hookspec {hook}({', '.join(parameters)})")
    for parameter in parameters:
        assert re.search(rf"^\| `{parameter}` \|", body, re.MULTILINE), (
            f"the {hook} section has no '| `{parameter}` |' row describing the parameter")
    assert re.search(r"^\| returns \|", body, re.MULTILINE), f"the {hook} section says nothing it returns"
    assert re.search(rf"```python\n# example: plugin\n.*?^def {hook}\(", body,
                     re.MULTILINE | re.DOTALL), (
        f"the {hook} section has no '# example: plugin' block implementing {hook}")


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_docstring_covers_its_parameters(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc, f"{hook}'s docstring does not say when it is called"
    for parameter in _hooks()[hook].parameters:
        assert f":param {parameter}:" in doc, f"{hook}'s docstring does not describe {parameter}"
    assert ":return:" in doc and "firstresult" in doc, (
        f"{hook}'s docstring does not say what it returns and whether it is firstresult")
