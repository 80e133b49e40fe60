"""Valid projects broken in small ways: kpispec refuses them clearly, or copes.

Structural mutations work on the YAML documents before they are written: delete
a key, give a value of the wrong type, add an unknown field, point a reference
(model, metric, time column, join) at something that does not exist, duplicate an
item, nest deeply. Text mutations work on the written file: stray unicode, a cut,
a duplicated or mis-indented line, YAML anchors, aliases and tags, template
markers, a byte-order mark, NUL bytes, invalid UTF-8. kpispec.yaml is mutated
too. ``load_project`` must succeed or raise a KpispecError with a message, and a
project that still loads must compile (or refuse) every query.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import kpispec
import pytest
import yaml
from hypothesis import given, note
from hypothesis import strategies as st

from .gen import Project, dump_yaml, pick, projects, queries
from .harness import Scratch, attempt, cases, parse_back
from .test_compile import ALL_DIALECTS

JUNK_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, float("inf"), "", " ", "x", "\u00e9t\u00e9", [], {}, [1, 2],
    {"a": 1}, [[[]]], "SELECT 1", "1; DROP TABLE x", "{{ var('nope') }}", "2024-13-01",
    "1 fortnight", "0-10", "percentile", "period_start", 10**30, "a" * 300, "null", "~",
    {"name": "x"}, [{"name": None}], "count(*)", "amount / 0",
)
UNKNOWN_KEYS = ("colour", "type", "window", "measure", "Name", "filters", "joins", "x-custom",
                "\u00e9", "on", "replace", "ages", "1")
TEXT_SNIPPETS = (
    "\u00e9", "\ufeff", "\x00", "\t", "  ", "\n", ":", "- ", "&a ", "*a", "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=", "{{", "}}", "{% raw %}", "{#", "#", "'", '"', "]", "}", "---\n",
    "...\n", "%YAML 1.1\n", "<<: *a\n", "? ", "|", ">", "\u2028", "\U0001f600", "\\",
)
SETTINGS_MUTATIONS: tuple[tuple[str, Any], ...] = (
    ("dialect", "nosuchsql"), ("dialect", 42), ("dialect", "MySQL"), ("dialect", "presto"),
    ("week_start", "Monday"), ("week_start", 1), ("fiscal_year_start_month", 0),
    ("fiscal_year_start_month", "7"), ("fiscal_year_start_month", 7.5),
    ("fiscal_year_label", "middle"), ("timezone", "Mars/Olympus"), ("timezone", "UTC"),
    ("timezone", "Etc/GMT+14"), ("timezone", 5), ("vars", []), ("vars", {"x": {"y": [1]}}),
    ("packs", {"crm": "yes"}), ("packs", []), ("paths", ["../.."]), ("paths", ["nowhere"]),
    ("paths", "specs"), ("paths", ["/etc"]), ("source", 1), ("currency", "\u20ac" * 20),
    ("version", 2), ("name", None), ("unknown_setting", True),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a document."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutate_doc(draw: st.DrawFn, doc: dict[str, Any], names: list[str]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    paths = _paths(doc)
    if not paths:
        return doc
    path = pick(draw, paths)
    parent, key = _get(doc, path[:-1]), path[-1]
    kind = pick(draw, ("junk", "junk", "delete", "unknown_key", "rename", "duplicate", "nest",
                       "swap"))
    if kind == "junk":
        parent[key] = pick(draw, JUNK_VALUES)
    elif kind == "delete":
        del parent[key]
    elif kind == "unknown_key":
        target = parent[key] if isinstance(parent[key], dict) else parent
        if isinstance(target, dict):
            target[pick(draw, UNKNOWN_KEYS)] = pick(draw, JUNK_VALUES)
    elif kind == "rename":  # a reference that points nowhere, or somewhere else
        if isinstance(parent[key], str):
            parent[key] = pick(draw, [*names, parent[key] + "_x", parent[key].upper(), "nope"])
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    elif kind == "nest":
        value: Any = parent[key]
        for _ in range(draw(st.integers(1, 60))):
            value = [value] if draw(st.booleans()) else {"x": value}
        parent[key] = value
    else:
        other = pick(draw, paths)
        try:
            parent[key], value = copy.deepcopy(_get(doc, other)), parent[key]
        except (KeyError, IndexError, TypeError):
            pass
    return doc


@st.composite
def mutate_text(draw: st.DrawFn, text: str) -> str | bytes:
    kind = pick(draw, ("insert", "insert", "cut", "dup_line", "indent", "bytes", "anchors",
                       "bom"))
    at = draw(st.integers(0, len(text)))
    if kind == "insert":
        piece = draw(st.one_of(st.sampled_from(TEXT_SNIPPETS), st.text(min_size=1, max_size=4)))
        return text[:at] + piece + text[at:]
    if kind == "cut":
        return text[:at]
    lines = text.splitlines(keepends=True)
    if kind == "dup_line" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i + 1] + lines[i:])
    if kind == "indent" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = pick(draw, ("\t", " ", "   ", "")) + lines[i].lstrip(" ")
        return "".join(lines)
    if kind == "bytes":
        raw = text.encode()
        return raw[:at] + pick(draw, (b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80")) + raw[at:]
    if kind == "anchors":  # an alias bomb in miniature, appended as a new key
        depth = draw(st.integers(1, 12))
        bomb = "a0: &a0 [x, x]\n" + "".join(
            f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, depth))
        return bomb + text
    return "\ufeff" + text


def _files(project: Project, draw: st.DrawFn) -> dict[str, str | bytes]:
    docs = project.docs()
    names = [m.name for m in project.models] + [m.name for m in project.metrics] + [
        c.name for m in project.models for c in m.columns]
    files: dict[str, str | bytes] = {}
    target = pick(draw, sorted(docs))
    mode = pick(draw, ("doc", "text", "both", "settings"))
    for name, doc in docs.items():
        if name == target and mode in ("doc", "both"):
            for _ in range(draw(st.integers(1, 3))):
                doc = draw(mutate_doc(doc, names))
        text = dump_yaml(doc)
        files[name] = draw(mutate_text(text)) if name == target and mode in ("text", "both") \
            else text
    settings = dict(project.settings)
    if mode == "settings":
        key, value = pick(draw, SETTINGS_MUTATIONS)
        settings[key] = value
    if settings:
        files["kpispec.yaml"] = yaml.safe_dump(settings, allow_unicode=True)
    return files


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = Scratch()
    yield s
    s.close()


@cases(400)
@given(project=projects(strict=True, max_models=2, max_metrics=4), data=st.data())
def test_mutated_projects_are_refused_or_work(scratch: Scratch, project: Project,
                                              data: st.DataObject) -> None:
    files = data.draw(st.composite(lambda draw: _files(project, draw))(), label="files")
    root = scratch.write(files)
    loaded = attempt(lambda: kpispec.load_project(root))
    if isinstance(loaded, kpispec.KpispecError):
        return
    note(f"loaded {sorted(loaded.metrics)}")
    names = [n for n in (m.name for m in project.metrics) if n in loaded.metrics]
    if not names:
        return
    query = data.draw(queries(project), label="query")
    metrics = [m for m in query.metrics if m in loaded.metrics] or names[:1]
    dialect = data.draw(st.sampled_from(ALL_DIALECTS), label="dialect")
    compiled = attempt(lambda: loaded.compile(metrics, dialect=dialect, **query.options))
    if not isinstance(compiled, kpispec.KpispecError):
        parse_back(compiled.sql, compiled.dialect)
