"""The shortcuts taken for speed give the same answers as the long way round."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import jsonschema
import kpispec
import pytest
import sqlglot
from kpispec.compile._reserved_words import STANDARD_RESERVED
from kpispec.spec import schema as schema_module
from kpispec.spec.loader import load_yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_DIRS = ["specs", "plugins/kpispec_crm", "plugins/examples", "tests/engines/specs",
             "tests/engines/specs_time", "tests/golden", "tests/spec_errors/cases"]


def test_reserved_words_match_sqlglots_list() -> None:
    """Kept as a constant so compiling for Snowflake does not import DuckDB's generator."""
    words = sqlglot.Dialect.get_or_raise("duckdb").generator_class.RESERVED_KEYWORDS
    assert frozenset(w.lower() for w in words) == STANDARD_RESERVED


def _spec_documents() -> list[tuple[str, Any]]:
    found = []
    for directory in SPEC_DIRS:
        for path in sorted((REPO / directory).rglob("*.yaml")):
            if path.name == "kpispec.yaml":
                continue
            try:
                document = load_yaml(path, context={"var": lambda name, default=None: default})
            except kpispec.SpecError:
                continue  # unreadable on purpose (a spec error case)
            if isinstance(document, dict) and ("metrics" in document or "models" in document):
                found.append((str(path.relative_to(REPO)), document))
    return found


DOCUMENTS = _spec_documents()


def test_there_are_documents_to_compare() -> None:
    assert len(DOCUMENTS) > 50
    assert any("spec_errors" in name for name, _ in DOCUMENTS)


@pytest.mark.parametrize("name, document", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_compiled_validator_agrees_with_jsonschema(name: str, document: Any) -> None:
    schema = kpispec.published_schema()
    slow = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert schema_module._fast_valid(document, schema, None) == (not slow)


def test_without_jsonschema_rs_the_errors_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = kpispec.published_schema()
    invalid = [(n, d) for n, d in DOCUMENTS if schema_module.schema_errors(d, schema, n)]
    assert invalid, "the spec error cases include schema errors"
    expected = {n: [e.render() for e in schema_module.schema_errors(d, schema, n)] for n, d in invalid}
    real_import = builtins.__import__

    def no_rs(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jsonschema_rs":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rs)
    monkeypatch.setattr(schema_module, "_COMPILED", {})
    fresh = kpispec.published_schema()  # a new schema object: nothing compiled for it
    for n, d in invalid:
        assert [e.render() for e in schema_module.schema_errors(d, fresh, n)] == expected[n]
    assert schema_module.check_fragment({"type": "objectx"}) is not None
    assert schema_module.check_fragment({"type": "object"}) is None


def test_published_schema_is_a_copy() -> None:
    schema = kpispec.published_schema()
    schema["$defs"].clear()
    assert kpispec.published_schema()["$defs"]

