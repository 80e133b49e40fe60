"""What every source's tests compare: its result against DuckDB's for the same query."""

from __future__ import annotations

import pyarrow as pa
import pytest

#: Demo rows the source tests load (small: every engine test loads it once per module).
DEMO_ROWS = 500


def assert_same_result(actual: pa.Table, expected: pa.Table) -> None:
    """Equal column names and Arrow types (``period`` a date32), the same rows in the same
    order, floats within a relative (and absolute) 1e-9; never two empty results."""
    assert actual.schema.names == expected.schema.names
    assert actual.schema.types == expected.schema.types
    assert actual.schema.field("period").type == pa.date32()
    assert actual.num_rows == expected.num_rows > 0
    for number, (got, want) in enumerate(zip(actual.to_pylist(), expected.to_pylist(), strict=True)):
        for column, value in want.items():
            if isinstance(value, float) and got[column] is not None:
                assert got[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (number, column, got, want)
            else:
                assert got[column] == value, (number, column, got, want)
