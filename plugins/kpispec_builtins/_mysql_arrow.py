"""MySQL and MariaDB results as Arrow: the schema from the result's column types, and
record batches of the rows (see :mod:`kpispec_builtins.mysql_source`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["arrow_schema", "to_batch"]

#: The character set number of binary strings (BLOB, BINARY).
_BINARY_CHARSET = 63


def arrow_schema(cursor: Any) -> pa.Schema:
    """The Arrow schema of the cursor's result, from the MySQL column types."""
    import pyarrow as pa
    from pymysql.constants import FIELD_TYPE as T

    fields = getattr(getattr(cursor, "_result", None), "fields", None) or []
    out = []
    for i, (name, code, _, length, *_rest) in enumerate(cursor.description or ()):
        binary = i < len(fields) and getattr(fields[i], "charsetnr", None) == _BINARY_CHARSET
        if code == T.TINY and length == 1:
            kind = pa.bool_()
        elif code in (T.TINY, T.SHORT, T.LONG, T.INT24, T.LONGLONG, T.YEAR):
            kind = pa.int64()
        elif code in (T.DECIMAL, T.NEWDECIMAL, T.FLOAT, T.DOUBLE):
            kind = pa.float64()
        elif code in (T.DATE, T.NEWDATE):
            kind = pa.date32()
        elif code in (T.DATETIME, T.TIMESTAMP):
            kind = pa.timestamp("us")
        elif code == T.TIME:
            kind = pa.duration("us")
        elif code == T.NULL:
            kind = pa.null()
        elif code in (T.BIT, T.GEOMETRY) or binary:
            kind = pa.binary()
        else:  # VARCHAR, CHAR, TEXT, ENUM, SET, JSON
            kind = pa.string()
        out.append(pa.field(name, kind))
    return pa.schema(out)


def to_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema, label: str) -> pa.RecordBatch:
    import pyarrow as pa

    columns = list(zip(*rows)) if rows else [() for _ in schema]
    arrays = []
    for field, values in zip(schema, columns):
        if pa.types.is_boolean(field.type):  # TINYINT(1) arrives as 0/1
            values = tuple(None if v is None else bool(v) for v in values)
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            bad = next((v for v in values if _unconvertible(v, field.type)), None)
            raise ExecutionError(
                f"column {field.name!r} of a query on {label} holds {bad!r}, which is not a "
                f"valid {field.type} (MySQL zero dates and out-of-range values have no Arrow "
                "equivalent)") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _unconvertible(value: Any, kind: pa.DataType) -> bool:
    import pyarrow as pa

    if value is None:
        return False
    try:
        pa.array([value], type=kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return True
    return False
