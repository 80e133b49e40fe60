"""What the two ClickHouse sources share (chdb in process, a server over HTTP): the
wording of ClickHouse's errors, the timeout setting, and the portable Arrow types
results are handed over as (see :mod:`kpispec_builtins.clickhouse_source`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from kpispec.errors import ExecutionError

from kpispec_builtins._source_base import SourceConnection, check_timeout

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CATALOG", "DIALECT", "ClickHouseConnection", "arrow_schema", "convert", "error_code", "seconds"]

#: The sqlglot dialect ClickHouse speaks.
DIALECT = "clickhouse"
#: ClickHouse error codes of a query stopped by max_execution_time (TIMEOUT_EXCEEDED,
#: TOO_SLOW: "estimated query execution time is too long").
_TIMEOUT_CODES = frozenset({159, 160})
#: The columns of a table, parameterised (``{db:String}``, ``{t:String}``).
CATALOG = ("SELECT name FROM system.columns "
           "WHERE database = if({db:String} = '', currentDatabase(), {db:String}) "
           "AND table = {t:String} ORDER BY position")

Handle = TypeVar("Handle")


class ClickHouseConnection(SourceConnection[Handle]):
    """The base of both ClickHouse connections: ClickHouse's dialect and error wording."""

    dialect = DIALECT
    engine = "ClickHouse"

    @classmethod
    def one_line(cls, exc: BaseException | str, secret: str | None = None) -> str:
        """ClickHouse's message on one line, without chdb's prefix, the version or a password."""
        text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
        text = text.strip()
        text = re.sub(r"^(Streaming query failed: )+", "", text)
        text = re.sub(r"^Code: \d+\. (?=Code: \d+\.)", "", text)  # chdb repeats the code
        text = re.sub(r"\s*\(version [^)]*\)", "", text)
        return super().one_line(text, secret)

    def query_error(self, exc: BaseException | str, timeout: float | None) -> ExecutionError:
        """The error of a query ClickHouse failed: the timeout (its code says so), or the failure."""
        if timeout is not None and error_code(self.message(exc)) in _TIMEOUT_CODES:
            return self.timed_out(timeout)
        return self.failed(exc)


def seconds(timeout: float) -> str:
    """A validated number of seconds as ClickHouse setting text."""
    value = float(timeout)
    check_timeout(value)
    return f"{value:.6f}".rstrip("0").rstrip(".")


def error_code(text: str) -> int | None:
    """The ClickHouse error code a message carries (``Code: 159.``), or None."""
    match = re.search(r"Code: (\d+)\.", text)
    return int(match.group(1)) if match else None


# -- Arrow types ----------------------------------------------------------------------------


def _target(kind: pa.DataType) -> pa.DataType:
    """The portable Arrow type a ClickHouse column of Arrow type ``kind`` is handed over as."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(kind):
        return _target(kind.value_type)
    if t.is_integer(kind):
        return pa.int64()
    if t.is_floating(kind) or t.is_decimal(kind):
        return pa.float64()
    if t.is_timestamp(kind):
        return pa.timestamp("us")
    if t.is_date(kind):
        return pa.date32()
    if t.is_large_string(kind):
        return pa.string()
    return kind


def arrow_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(f.name, _target(f.type)) for f in schema])


def convert(batch: pa.RecordBatch, schema: pa.Schema, label: str) -> pa.RecordBatch:
    import pyarrow as pa

    if batch.schema == schema:
        return batch
    arrays = []
    for field, column in zip(schema, batch.columns):
        try:
            arrays.append(column if column.type == field.type else column.cast(field.type))
        except pa.ArrowException as exc:
            raise ExecutionError(f"column {field.name!r} of a query on {label} cannot be read as "
                                 f"{field.type}: {ClickHouseConnection.one_line(exc)}") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
