"""Loader (marks, YAML 1.2 booleans, bombs), templating sandbox, snippet checks."""

from __future__ import annotations

import datetime as dt

import pytest

from kpispec.errors import Location, SpecError
from kpispec.spec.loader import load_yaml, locate, render_template
from kpispec.spec.snippets import parse_snippet


def test_marks_point_at_each_node() -> None:
    text = "metrics:\n  - name: a\n    measure: {model: deals, agg: count}\n"
    root = load_yaml("x.yaml", text=text)
    assert str(locate(root, ("metrics", 0, "measure", "agg"), "x.yaml")) == "x.yaml:3:34: metrics[0].measure.agg"
    assert str(locate(root, ("metrics", 0), "x.yaml")) == "x.yaml:2:5: metrics[0]"


def test_on_is_a_key_not_a_boolean() -> None:
    root = load_yaml("x.yaml", text="joins:\n  - {model: c, on: customer_id}\nflag: yes\nok: true\n")
    assert root["joins"][0] == {"model": "c", "on": "customer_id"}
    assert root["flag"] == "yes" and root["ok"] is True


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        load_yaml("x.yaml", text="a: 1\nb: 2\na: 3\n")
    assert str(info.value) == "x.yaml:3:1: duplicate key 'a' (first at line 1). Remove one of them"


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    with pytest.raises(SpecError, match="more than 200 YAML aliases"):
        load_yaml("bomb.yaml", text="\n".join(lines))


def test_python_tags_are_refused() -> None:
    with pytest.raises(SpecError, match="x.yaml:1:4: invalid YAML"):
        load_yaml("x.yaml", text="a: !!python/object/apply:os.system ['true']\n")


def test_binary_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "junk.yaml"
    path.write_bytes(b"\x00\x01\x02metrics")
    with pytest.raises(SpecError, match="not a text file"):
        load_yaml(path, "junk.yaml")


def test_template_var_and_sandbox() -> None:
    var = {"var": lambda name, default=None: {"m": 0.7}.get(name, default)}
    assert render_template("x: {{ var('m') }} {{ var('n', 3) }}", "f.yaml", var) == "x: 0.7 3"
    with pytest.raises(SpecError, match="f.yaml:2:1: template error"):
        render_template("a: 1\nb: {{ ''.__class__.__mro__[1].__subclasses__() }}", "f.yaml", var)
    with pytest.raises(SpecError, match="f.yaml:1:1: template error"):
        render_template("{{ undefined_name }}", "f.yaml", var)


@pytest.mark.parametrize("text, message", [
    ("amount > (SELECT 1)", "subqueries are not allowed"),
    ("1; DROP TABLE deals", "';' is not allowed"),
    ("stage = 'won' -- sneaky", "comments are not allowed"),
    ("stage = 'won' /* x */", "comments are not allowed"),
    ("SUM(amount) > 1", "aggregate 'SUM(amount)' is not allowed here"),
    ("ROW_NUMBER() OVER () = 1", "window functions are not allowed"),
    ("stage IN (SELECT stage FROM x UNION SELECT 'a')", "subqueries are not allowed"),
    ("x = ?", "parameters are not allowed"),
    ("stage = 'won", "cannot read SQL"),
    ("a AS b", "a snippet must be one expression, without an alias or a list"),
])
def test_snippets_refused(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_snippet(text, "duckdb", Location("s.yaml", 4, 7, "metrics[0].filter"))
    assert str(info.value).startswith(f"s.yaml:4:7: metrics[0].filter: {message}")
    assert repr(text) in str(info.value)


def test_snippet_accepted_returns_independent_copies() -> None:
    first = parse_snippet("stage = 'won' AND amount > 10", "duckdb", Location("s"))
    first.set("this", None)
    again = parse_snippet("stage = 'won' AND amount > 10", "duckdb", Location("s"))
    assert again.sql() == "stage = 'won' AND amount > 10"


def test_period_helpers() -> None:
    from kpispec.compile.build import period_count, period_start

    assert period_start(dt.date(2024, 5, 19), "week") == dt.date(2024, 5, 13)  # a Monday
    assert period_start(dt.date(2024, 5, 19), "quarter") == dt.date(2024, 4, 1)
    assert period_count(dt.date(2024, 1, 1), dt.date(2024, 7, 1), "month") == 6
    assert period_count(dt.date(2024, 1, 1), dt.date(2024, 7, 2), "month") == 7
    assert period_count(dt.date(2024, 1, 1), dt.date(2025, 1, 1), "quarter") == 4
    assert period_count(dt.date(2024, 5, 13), dt.date(2024, 5, 28), "week") == 3
    assert period_count(dt.date(2024, 1, 1), dt.date(2024, 1, 1), "day") == 0
