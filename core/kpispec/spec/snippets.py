"""Parsing and checking the SQL snippets of a spec (filter, expr, dimension expr, --where).

A snippet is parsed once with sqlglot in the project dialect and accepted only
as one scalar expression built from an allow-list: columns, literals,
arithmetic, comparisons, boolean logic, IN, BETWEEN, LIKE, IS NULL, CASE, CAST
and the functions in :data:`SCALAR_FUNCTIONS` (plus, in positions that
aggregate, :data:`AGGREGATE_FUNCTIONS`). Everything else — statements,
semicolons, comments, subqueries, set operations, stars, window functions,
parameters, file readers and other system functions, functions sqlglot does
not know (except the few names in :data:`ANONYMOUS_FUNCTIONS`) — is refused
with a message naming the snippet, the construct and its position. The
checked tree is what the compiler embeds — never the text — so the generator
of the target dialect quotes every identifier and escapes every literal.

A model's ``sql:`` is one SELECT: it may join, group and use window functions,
but calls the same allow-listed functions and reads plain tables only (no
table functions, no file paths, no locking clauses).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kpispec._dialect_names import sqlglot_dialect
from kpispec.errors import Location, SpecError
from kpispec.spec.bounds import BOUND_HINT, text_bound_refusal
from kpispec.spec.sql_text import parse_tokens, read_tokens
from kpispec.spec.sqlite_dates import translate as translate_sqlite_dates
from kpispec.spec.system_objects import query_node_refusal
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

__all__ = [
    "AGGREGATE_FUNCTIONS", "ANONYMOUS_FUNCTIONS", "MAX_QUERY_CHARS", "MAX_SNIPPET_CHARS",
    "SCALAR_FUNCTIONS", "WINDOW_FUNCTIONS", "function_names", "parse_query", "parse_snippet",
    "unqualified",
]

#: Snippets longer than this are refused before parsing (parse time grows with length).
MAX_SNIPPET_CHARS = 20_000
#: A model's ``sql:`` longer than this is refused before parsing.
MAX_QUERY_CHARS = 100_000


def _classes(*names: str) -> frozenset[type[exp.Expr]]:
    """The sqlglot node classes of these names (a name a sqlglot release lacks is skipped)."""
    return frozenset(c for n in names if isinstance(c := getattr(exp, n, None), type))


#: Scalar functions a snippet may call, as sqlglot node classes: each dialect's spelling
#: (``date_diff``, ``DATEDIFF``, ``TIMESTAMPDIFF``…) parses to one of these.
SCALAR_FUNCTIONS: frozenset[type[exp.Expr]] = _classes(
    # conditionals and NULL handling
    "Coalesce", "Nullif", "If", "Case", "Nvl2", "Greatest", "Least",
    # text
    "Lower", "Upper", "Trim", "Length", "ByteLength", "Substring", "Concat", "ConcatWs",
    "Replace", "StrPosition", "Left", "Right", "Pad", "Initcap", "Reverse", "SplitPart",
    "StartsWith", "EndsWith", "RegexpLike", "RegexpILike", "RegexpReplace", "RegexpExtract",
    "Ascii", "Chr",
    # numbers
    "Abs", "Round", "Floor", "Ceil", "Sign", "Sqrt", "Cbrt", "Pow", "Exp", "Ln", "Log",
    "Trunc", "SafeDivide", "IsNan", "IsInf",
    # dates and times
    "CurrentDate", "CurrentTimestamp", "CurrentTime", "CurrentDatetime",
    "DateTrunc", "TimestampTrunc", "DatetimeTrunc", "TimeTrunc", "Extract",
    "DateAdd", "DateSub", "DateDiff", "DatetimeAdd", "DatetimeSub", "DatetimeDiff",
    "TimestampAdd", "TimestampSub", "TimestampDiff", "TsOrDsAdd", "TsOrDsDiff",
    "TsOrDsToDate", "TsOrDsToTimestamp", "TsOrDsToDatetime", "TimeStrToTime", "TimeStrToDate",
    "DateStrToDate", "StrToDate", "StrToTime", "TimeToStr", "UnixToTime", "TimeToUnix",
    "StrToUnix", "UnixToStr", "AddMonths", "MonthsBetween", "LastDay", "Date", "Datetime",
    "Timestamp", "Year", "Quarter", "Month", "Week", "WeekOfYear", "Day", "DayOfWeek",
    "DayOfWeekIso", "DayOfMonth", "DayOfYear", "Hour", "Minute", "Second", "Dayname",
    "Monthname", "DateFromParts", "TimestampFromParts", "ToChar", "ToNumber", "ConvertTimezone",
    # types and logic (sqlglot models these as functions too)
    "Cast", "TryCast", "And", "Or",
)

#: Aggregate functions, accepted where a snippet aggregates (and in a model's ``sql``).
AGGREGATE_FUNCTIONS: frozenset[type[exp.Expr]] = _classes(
    "Count", "Sum", "Avg", "Min", "Max", "Median", "PercentileCont", "PercentileDisc",
    "Quantile", "ApproxQuantile", "CountIf", "Stddev", "StddevPop", "StddevSamp", "Variance",
    "VariancePop", "ApproxDistinct", "AnyValue", "LogicalAnd", "LogicalOr",
)

#: Window functions, accepted in a model's ``sql`` only.
WINDOW_FUNCTIONS: frozenset[type[exp.Expr]] = _classes(
    "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile", "Lag", "Lead",
    "FirstValue", "LastValue", "NthValue",
)

#: Functions sqlglot has no node for in some dialect (it keeps them as ``exp.Anonymous``)
#: that are plain scalar functions in every engine that has them. Any other unknown
#: function name — ``pg_read_file``, ``LOAD_FILE``, ``dblink``, ``getenv``, ClickHouse
#: ``url``/``file``/``s3`` … — is refused. Lower case.
ANONYMOUS_FUNCTIONS: frozenset[str] = frozenset({
    "age", "btrim", "date_format", "date_part", "date_sub", "dateadd", "datepart", "div0",
    "epoch", "from_unixtime", "isnull", "ltrim", "now", "octet_length", "regexp_matches",
    "rtrim", "strftime", "to_date", "to_timestamp", "trunc", "unix_timestamp",
})

#: Non-function nodes a scalar snippet is made of.
_SCALAR_NODES: frozenset[type[exp.Expr]] = _classes(
    "Column", "Identifier", "Literal", "Boolean", "Null", "Paren", "Neg", "Not",
    "Add", "Sub", "Mul", "Div", "Mod", "IntDiv", "DPipe",
    "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "NullSafeEQ", "NullSafeNEQ", "Is",
    "In", "Between", "Like", "ILike", "Escape", "SimilarTo",
    "Var", "Interval", "DataType", "DataTypeParam", "AtTimeZone",
)
#: Nodes aggregates bring along (``COUNT(DISTINCT x)``, ``PERCENTILE_CONT(…) WITHIN GROUP``).
_AGGREGATE_NODES: frozenset[type[exp.Expr]] = _classes("Distinct", "WithinGroup", "Order", "Ordered")

_FORBIDDEN: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Query, "subqueries are not allowed"),
    (exp.Subquery, "subqueries are not allowed"),
    (exp.DDL, "statements are not allowed"),
    (exp.DML, "statements are not allowed"),
    (exp.Command, "statements are not allowed"),
    (exp.Star, "'*' is not allowed"),
    (exp.Window, "window functions are not allowed"),
    (exp.Placeholder, "parameters are not allowed"),
    (exp.Parameter, "parameters are not allowed"),
)
_FORBIDDEN_ANY: tuple[type[exp.Expr], ...] = (exp.SetOperation, *(k for k, _ in _FORBIDDEN))

#: Nodes that may appear inside a scalar expression without being conditions themselves.
_PARTS: tuple[type[exp.Expr], ...] = (
    exp.Identifier, exp.DataType, exp.DataTypeParam, exp.Var, exp.Interval, exp.Distinct,
    exp.Star, exp.AtTimeZone,
)

#: String literals other than plain '…': their escaping rules differ between engines.
_ODD_STRINGS: frozenset[type[exp.Expr]] = _classes(
    "RawString", "ByteString", "HexString", "BitString", "National", "UnicodeString")

_HINT = ("A snippet is one scalar expression: columns, literals, arithmetic, comparisons, "
         "AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, CASE, CAST and the allowed functions "
         "(see docs/security.md)")
_COMMON = ("ABS, CAST, CEIL, COALESCE, CONCAT, CURRENT_DATE, DATE_DIFF, DATE_TRUNC, EXTRACT, "
           "FLOOR, GREATEST, IF, LEAST, LENGTH, LOWER, NULLIF, REPLACE, ROUND, STRPOS, "
           "SUBSTRING, TRIM, UPPER")
#: A table name in a model's sql that looks like a file, a URL or a path: DuckDB (and
#: others) would read the file it names instead of a table.
_FILE_LIKE = re.compile(r"[./\\:~]|^$")


@dataclass(frozen=True)
class _Refusal:
    message: str
    hint: str = ""


def function_names(classes: Iterable[type[exp.Expr]] | None = None) -> list[str]:
    """The SQL names of allowed functions, sorted (for messages and the docs).

    >>> "COALESCE" in function_names()
    True
    """
    if classes is None:
        classes = SCALAR_FUNCTIONS
    names: set[str] = set()
    for cls in classes:
        if issubclass(cls, exp.Func) and cls not in (exp.And, exp.Or, exp.Case):
            names.update(cls.sql_names())
    return sorted(names)


def _position(node: exp.Expr, text: str, needle: str = "") -> str:
    """`` at line L, column C`` (or `` at character N``) of ``node`` in the snippet, if known.

    sqlglot notes where most nodes start; for one it does not, the first whole-word
    occurrence of ``needle`` in the text is taken.
    """
    start: int | None = None
    for sub in node.walk():
        found = sub.meta.get("start") if sub.meta else None
        if isinstance(found, int) and 0 <= found <= len(text):
            start = found
            break
    if start is None and needle:
        match = re.search(rf"(?<![\w$]){re.escape(needle)}(?![\w$])", text, re.IGNORECASE)
        start = match.start() if match else None
    if start is None:
        return ""
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f" at line {line}, column {column}" if "\n" in text else f" at character {column}"


def _spelling(node: exp.Expr, text: str) -> tuple[str, bool]:
    """The function's name as the user wrote it (True), or sqlglot's name for it (False)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name), True
    meta = node.meta or {}
    start, end = meta.get("start"), meta.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end < len(text):
        written = text[start:end + 1]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", written):
            return written, True
    names = node.sql_names() if isinstance(node, exp.Func) else []
    name = names[0] if names else type(node).__name__.upper()
    return name, bool(re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE))


def _function_hint(name: str, allowed: frozenset[type[exp.Expr]]) -> str:
    close = difflib.get_close_matches(name.upper(), function_names(allowed) + sorted(
        n.upper() for n in ANONYMOUS_FUNCTIONS), n=1, cutoff=0.85)
    if close and close[0] != name.upper():
        return f"Did you mean {close[0]}? Only allowed functions may be called (see docs/security.md)"
    return f"Only allowed functions may be called, such as {_COMMON} (the full list is in docs/security.md)"


def _check_function(node: exp.Expr, text: str, allowed: frozenset[type[exp.Expr]],
                    dialect: str, where: str = "") -> _Refusal | None:
    """Refuse a function call that is not on the allow-list."""
    if isinstance(node, exp.Anonymous):
        if isinstance(node.this, str) and node.this.lower() in ANONYMOUS_FUNCTIONS:
            return None
    elif type(node) in allowed:
        return None
    name, written = _spelling(node, text)
    kind = "aggregate function" if isinstance(node, exp.AggFunc) else "function"
    if not written:  # an operator or literal sqlglot reads as a function: ->>, {…}
        construct = _show(node, dialect)
        return _Refusal(f"{construct!r} ({name}) is not allowed{where}{_position(node, text)}",
                        _function_hint(name, allowed))
    return _Refusal(f"{kind} {name!r} is not allowed{where}{_position(node, text, name)}",
                    _function_hint(name, allowed))


def _check_node(node: exp.Expr, text: str, dialect: str) -> _Refusal | None:
    """Refuse a non-function node of a scalar snippet that is not on the allow-list."""
    if type(node) in _ODD_STRINGS:
        return _Refusal(f"only plain '...' string literals are allowed{_position(node, text)}",
                        "Write the string between single quotes, doubling a quote inside it "
                        "(no dollar-quoted, escape, byte, raw, national or unicode strings)")
    if isinstance(node, exp.Dot):
        return _Refusal(f"qualified function names and field access are not allowed"
                        f"{_position(node, text)}", _HINT)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED:
        kind = node.args.get("kind")
        name = kind.sql() if isinstance(kind, exp.Expr) else str(kind)
        return _Refusal(f"unknown type {name!r}{_position(node, text, name)}",
                        "CAST to a standard SQL type: INTEGER, BIGINT, DECIMAL(p, s), DOUBLE, "
                        "VARCHAR, BOOLEAN, DATE, TIMESTAMP…")
    if isinstance(node, exp.Var) and not isinstance(
            node.parent, (exp.Func, exp.Interval, exp.DataType, exp.DataTypeParam)):
        return _Refusal(f"unexpected word {node.name!r}{_position(node, text)}", _HINT)
    if type(node) in _SCALAR_NODES or type(node) in _AGGREGATE_NODES:
        return None
    construct = _show(node, dialect)
    return _Refusal(f"{type(node).__name__} expressions such as {construct!r} are not allowed"
                    f"{_position(node, text)}", _HINT)


def _show(node: exp.Expr, dialect: str) -> str:
    """A refused construct as SQL, for a message (its node type if sqlglot cannot write it)."""
    try:
        return _shorten(node.sql(dialect=sqlglot_dialect(dialect)), 60)
    except Exception:
        return type(node).__name__


#: A checked snippet: its tree, and whether the tree holds an aggregate function.
_Checked = tuple[exp.Expr, bool]
#: Snippets met before, by (text, dialect): the checked tree (copied for each use) or
#: the refusal; None for a text met once, whose tree went to its caller uncopied.
_CHECKED: dict[tuple[str, str], _Checked | _Refusal | None] = {}
_CHECKED_MAX = 4096


def _checked(text: str, dialect: str) -> _Checked | _Refusal:
    """A checked tree of ``text`` that no one else holds, or why it is refused.

    Most snippets of a large project are met once: their tree is parsed and handed
    over, never copied. A text met again is parsed again and kept, then copied."""
    key = (text, dialect)
    known = _CHECKED.get(key)
    if known is not None:
        return known if isinstance(known, _Refusal) else (known[0].copy(), known[1])
    result = _parse(text, dialect)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    again = key in _CHECKED
    _CHECKED[key] = result if again or isinstance(result, _Refusal) else None
    return (result[0].copy(), result[1]) if again and not isinstance(result, _Refusal) else result


def _parse(text: str, dialect: str) -> _Checked | _Refusal:
    """Parse and check one snippet; return the tree and whether it aggregates, or why it is refused."""
    if len(text) > MAX_SNIPPET_CHARS:
        return _Refusal(f"snippet is {len(text)} characters; the limit is {MAX_SNIPPET_CHARS}")
    tokens = read_tokens(text, dialect)
    if isinstance(tokens, str):
        return _Refusal(tokens)
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            return _Refusal("';' is not allowed: a snippet is one expression")
        if token.comments:
            return _Refusal("comments are not allowed")
    if not tokens:
        return _Refusal("empty expression")
    statements = parse_tokens(text, dialect, tokens)
    if isinstance(statements, str):
        return _Refusal(statements)
    if len(statements) != 1 or statements[0] is None:
        return _Refusal("a snippet must be exactly one expression")
    tree = statements[0]
    if sqlglot_dialect(dialect) == "sqlite":
        translated = translate_sqlite_dates(tree)
        if isinstance(translated, tuple):
            return _Refusal(*translated)
        tree = translated
    nodes = list(tree.walk())
    for node in (n for n in nodes if isinstance(n, _FORBIDDEN_ANY)):  # one test for most nodes
        if isinstance(node, exp.SetOperation):
            return _Refusal("set operations (UNION, INTERSECT, EXCEPT) are not allowed")
        for kind, message in _FORBIDDEN:
            if isinstance(node, kind):
                return _Refusal(message)
    if isinstance(tree, (exp.Alias, exp.Tuple)):
        return _Refusal("a snippet must be one expression, without an alias or a list")
    # A DROP, TRUNCATE, SET, PRAGMA… parses as some node that is not a condition.
    if not isinstance(tree, (exp.Condition, *_PARTS)):
        return _Refusal(f"statements are not allowed ({tokens[0].text.upper()})")
    # The allow-list proper: every node is a known scalar construct or allowed function.
    allowed = SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS
    for node in nodes:
        refusal = (_check_function(node, text, allowed, dialect) if isinstance(node, exp.Func)
                   else _check_node(node, text, dialect))
        if refusal is not None:
            return refusal
    if (too_long := text_bound_refusal(tree)) is not None:  # rpad(x, 1e9): memory, no answer
        return _Refusal(too_long, BOUND_HINT)
    return tree, any(isinstance(node, exp.AggFunc) for node in nodes)


def parse_snippet(text: str, dialect: str, where: Location, *,
                  allow_aggregates: bool = False,
                  check_column: Callable[[exp.Column], str | None] | None = None) -> exp.Expr:
    """Parse a spec snippet into a checked sqlglot tree (a fresh copy each call).

    Args:
        text: the snippet, e.g. ``stage = 'won'``.
        dialect: the sqlglot dialect it is written in.
        where: the location reported on error.
        allow_aggregates: accept aggregate functions (only derived-metric expressions do).
        check_column: returns a message for a column reference that is not allowed.

    Raises:
        SpecError: naming the snippet, what is refused in it and where.

    >>> parse_snippet("stage = 'won'", "duckdb", Location("x.yaml")).sql()
    "stage = 'won'"
    >>> parse_snippet("read_csv('/etc/passwd')", "duckdb", Location("x.yaml"))
    Traceback (most recent call last):
    ...
    kpispec.errors.SpecError: x.yaml: function 'read_csv' is not allowed at character 1 in ...
    """
    if not isinstance(text, str):
        raise SpecError(f"a SQL snippet must be a string, not {type(text).__name__}", where)
    checked = _checked(text.rstrip(), dialect)
    if isinstance(checked, _Refusal):
        raise SpecError(f"{checked.message} in {_shorten(text, 200, keep=True)!r}", where, checked.hint)
    tree, aggregates = checked
    if aggregates and not allow_aggregates:
        for node in tree.find_all(exp.AggFunc):
            raise SpecError(f"aggregate {node.sql(dialect=sqlglot_dialect(dialect))!r} is not allowed "
                            f"here (measures aggregate with 'agg') in {_shorten(text, 200, True)!r}",
                            where)
    if check_column is not None:
        problems = [p for c in tree.find_all(exp.Column) if (p := check_column(c))]
        if problems:
            raise SpecError(problems[0].split(". ", 1)[0] + f" in {text!r}", where,
                            problems[0].split(". ", 1)[1] if ". " in problems[0] else "")
    return tree


def unqualified(column: exp.Column) -> str | None:
    """Why ``column`` cannot be in a column's ``expr`` (None when it can): that reads the
    model's own table, so a qualifier names something unknown. (In BigQuery a backquoted
    `` `a.b` `` is column ``b`` of ``a``: BigQuery column names have no dots.)"""
    if not column.table:
        return None
    qualifier = ".".join(part.name for part in column.parts[:-1])
    return (f"unknown qualifier {qualifier!r} of column {column.name!r}. A column's expr reads "
            "the columns of its model's own table, unqualified")


_QUERY_FUNCTIONS = SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS | WINDOW_FUNCTIONS


def _check_query_node(node: exp.Expr, text: str, dialect: str) -> _Refusal | None:
    """Refuse what a model's SELECT may not contain (an allow-list: snippet constructs,
    allowed functions and the parts of a SELECT; the project's own tables only)."""
    if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Placeholder, exp.Parameter)):
        return _Refusal("a model's sql must be a plain SELECT (no statements or parameters)")
    if isinstance(node, exp.Lock):
        return _Refusal("a model's sql may not lock rows (FOR UPDATE / FOR SHARE)")
    if isinstance(node, exp.Into):
        return _Refusal("a model's sql may not write (SELECT … INTO)")
    if type(node) in _ODD_STRINGS:
        return _Refusal(f"only plain '...' string literals are allowed in a model's sql"
                        f"{_position(node, text)}")
    if isinstance(node, exp.Dot):
        return _Refusal(f"qualified function names and field access are not allowed in a "
                        f"model's sql{_position(node, text)}")
    if isinstance(node, exp.Table):
        source = node.this
        if isinstance(source, exp.Func):
            return _Refusal(f"table functions such as {_spelling(source, text)[0]}(...) are not "
                            f"allowed in a model's sql{_position(source, text)}",
                            "Read tables by name: FROM schema.table")
        if not isinstance(source, exp.Identifier):
            return _Refusal(f"a model's sql may read only tables by name{_position(node, text)}")
        for part in node.parts:
            if _FILE_LIKE.search(part.name):
                return _Refusal(f"table name {part.name!r} looks like a file or a URL",
                                "A model's sql reads tables by name; engines would read the "
                                "file it names")
    refused = query_node_refusal(node, _SCALAR_NODES | _AGGREGATE_NODES,
                                 lambda sub: _show(sub, dialect))
    if refused is not None:
        return _Refusal(refused[0].replace("{at}", _position(node, text)), refused[1])
    if isinstance(node, exp.Func):
        return _check_function(node, text, _QUERY_FUNCTIONS, dialect, " in a model's sql")
    return None


def parse_query(text: str, dialect: str, where: Location) -> exp.Query:
    """Parse a model's ``sql:`` (one SELECT, no comments, allowed functions) into a tree."""
    if not isinstance(text, str):
        raise SpecError(f"a model's sql must be a string, not {type(text).__name__}", where)
    if len(text) > MAX_QUERY_CHARS:
        raise SpecError(f"a model's sql is {len(text)} characters; the limit is {MAX_QUERY_CHARS}",
                        where)
    tokens = read_tokens(text, dialect)
    if isinstance(tokens, str):
        raise SpecError(tokens, where)
    if any(t.comments for t in tokens):
        raise SpecError("comments are not allowed in a model's sql", where)
    if sum(t.token_type == TokenType.SEMICOLON for t in tokens) > 0:
        raise SpecError("';' is not allowed: a model's sql is one SELECT", where)
    statements = parse_tokens(text, dialect, tokens)
    if isinstance(statements, str):
        raise SpecError(statements, where)
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SpecError("a model's sql must be one SELECT", where)
    tree = statements[0]
    for node in tree.walk():
        refusal = _check_query_node(node, text, dialect)
        if refusal is not None:
            raise SpecError(f"{refusal.message} in {_shorten(text)!r}", where, refusal.hint)
    return tree


def _shorten(text: str, limit: int = 120, keep: bool = False) -> str:
    """``text`` cut to ``limit`` characters (whitespace runs folded unless ``keep``)."""
    if not keep:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
