"""A snippet (or --where) that does not parse: a plain message with the position and what
was expected there, never sqlglot's internals (node classes, 'Required keyword')."""

from __future__ import annotations

import pytest
from kpispec.errors import Location, SpecError
from kpispec.spec.snippets import parse_snippet


@pytest.mark.parametrize(("text", "message"), [
    ("stage = ", "invalid SQL at character 7: expected an expression after '='"),
    ("a = 1 AND", "invalid SQL at character 7: expected an expression after 'AND'"),
    ("CASE WHEN", "invalid SQL at character 6: expected an expression after 'WHEN'"),
    ("NOT", "invalid SQL at character 1: expected an expression after 'NOT'"),
    ("x BETWEEN 1", "invalid SQL at character 11: expected AND after '1' (BETWEEN low AND high)"),
    ("a = (1", "invalid SQL at character 6: expected ')' after '1'"),
    ("a b c", "invalid SQL at character 5: unexpected 'c'"),
    (")", "invalid SQL at character 1: unexpected ')'"),
    ("a =\n (1", "invalid SQL at line 2, column 3: expected ')' after '1'"),
])
def test_parse_errors_say_where_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_snippet(text, "duckdb", Location("--where"))
    assert str(info.value) == f"--where: {message} in {text!r}"
    assert "<class" not in str(info.value) and "Required keyword" not in str(info.value)
