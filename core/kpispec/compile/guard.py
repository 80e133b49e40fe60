"""The last check before a query reaches a source: one read-only SELECT, nothing else.

kpispec only ever sends the query it generated, but ``modify_query`` plugins and
sources sit between the compiler and the server; this check runs on the parsed
text right before execution, so whatever happened on the way, a statement that
writes, a second statement or a command never reaches the server.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from kpispec.compile.dialects import sqlglot_dialect
from kpispec.errors import ExecutionError

__all__ = ["check_single_select"]

_WRITES: tuple[type[exp.Expr], ...] = (
    exp.DDL, exp.DML, exp.Command, exp.Drop, exp.TruncateTable, exp.Alter, exp.Create,
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Set, exp.Pragma, exp.Use,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Copy,
)


def check_single_select(sql: str, dialect: str) -> None:
    """Raise :class:`ExecutionError` unless ``sql`` is exactly one SELECT without writes.

    >>> check_single_select("SELECT 1", "duckdb")
    >>> check_single_select("SELECT 1; DROP TABLE t", "duckdb")
    Traceback (most recent call last):
    ...
    kpispec.errors.ExecutionError: refusing to run anything but one SELECT: 2 statements
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=sqlglot_dialect(dialect)) if s is not None]
    except (ParseError, TokenError) as exc:
        raise ExecutionError(f"refusing to run a query that does not parse as {dialect}: "
                             f"{str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ExecutionError(f"refusing to run anything but one SELECT: {len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise ExecutionError(f"refusing to run anything but one SELECT: got {type(tree).__name__.upper()}")
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise ExecutionError(f"refusing to run a query containing {type(node).__name__.upper()}")
        if isinstance(node, exp.Select) and node.args.get("into"):
            raise ExecutionError("refusing to run SELECT … INTO")
