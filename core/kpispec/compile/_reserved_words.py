"""Words kpispec quotes: for dialects whose sqlglot generator lists no reserved words of its
own, the SQL standard's; for every dialect, those sqlglot's parser cannot read as names.

The standard list is DuckDB's (the SQL standard's reserved words, as sqlglot gives them
for DuckDB), kept here so that compiling for such a dialect does not import
DuckDB's generator. ``tests/unit/test_compile_speed.py`` checks it against
sqlglot's list, so an upgrade that changes it is noticed.
"""

from __future__ import annotations

STANDARD_RESERVED = frozenset({
    "all", "analyse", "analyze", "and", "anti", "any", "array", "as", "asc", "asof",
    "asymmetric", "at", "authorization", "binary", "both", "by", "case", "cast", "check",
    "collate", "collation", "column", "columns", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "describe",
    "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze",
    "from", "full", "generated", "glob", "grant", "group", "having", "ilike", "in", "initially",
    "inner", "intersect", "into", "is", "isnull", "join", "lambda", "lateral", "leading",
    "left", "like", "limit", "localtime", "localtimestamp", "map", "natural", "not", "notnull",
    "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "pivot", "pivot_longer",
    "pivot_wider", "placing", "positional", "primary", "qualify", "references", "returning",
    "right", "select", "semi", "session_user", "show", "similar", "some", "struct", "summarize",
    "symmetric", "table", "tablesample", "then", "to", "trailing", "true", "try_cast", "tuple",
    "union", "unique", "unpack", "unpivot", "user", "using", "variadic", "verbose", "when",
    "where", "window", "with"
})


#: Words sqlglot's parser for each dialect cannot read back as an unquoted name (a table
#: alias ``FROM t AS drop``, a qualifier ``values.ts``, a CTE name), though the dialect's
#: generator does not list them as reserved: kpispec quotes them too, so its SQL parses back
#: (its own pre-execution guard parses it). ``tests/unit/test_reserved_words.py`` derives the
#: lists from sqlglot again, so an upgrade that changes them is noticed.
PARSER_KEYWORDS: dict[str, frozenset[str]] = {
    "duckdb": frozenset({
        "alter", "between", "cube", "drop", "force", "insert", "install", "lock",
        "partitioned_by", "recursive", "regexp", "revoke", "rlike", "rollback", "rollup",
        "uncache", "values", "xor"}),
    "sqlite": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "partitioned_by",
        "recursive", "regexp", "revoke", "rlike", "rollback", "rollup", "uncache",
        "values", "xor"}),
    "postgres": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "partitioned_by",
        "recursive", "regexp", "revoke", "rlike", "rollback", "rollup", "uncache",
        "values", "xor"}),
    "mysql": frozenset({
        "any", "charset", "glob", "ilike", "notnull", "offset", "partitioned_by",
        "qualify", "returning", "rollback", "rollup", "tablesample", "uncache"}),
    "snowflake": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "match_recognize",
        "partitioned_by", "recursive", "regexp", "revoke", "rlike", "rollup", "sample",
        "top", "uncache", "undrop", "values", "xor"}),
    "bigquery": frozenset({
        "alter", "describe", "drop", "glob", "ilike", "insert", "lock", "notnull",
        "offset", "partitioned_by", "regexp", "returning", "revoke", "rlike", "rollback",
        "uncache", "xor"}),
    "redshift": frozenset({
        "alter", "cube", "describe", "drop", "fetch", "glob", "insert", "lateral", "lock",
        "partitioned_by", "qualify", "recursive", "regexp", "returning", "revoke",
        "rlike", "rollback", "rollup", "tablesample", "uncache", "variadic", "window",
        "xor"}),
    "spark": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "minus", "partitioned_by",
        "recursive", "regexp", "revoke", "rlike", "rollback", "rollup", "serdeproperties",
        "uncache", "values", "xor"}),
    "databricks": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "match_recognize", "minus",
        "partitioned_by", "recursive", "regexp", "revoke", "rlike", "rollback", "rollup",
        "serdeproperties", "uncache", "values", "xor"}),
    "trino": frozenset({
        "all", "any", "cube", "fetch", "glob", "grant", "ilike", "lateral", "limit",
        "lock", "match_recognize", "notnull", "offset", "partitioned_by", "recursive",
        "regexp", "returning", "revoke", "rlike", "rollback", "rollup", "tablesample",
        "uncache", "window", "xor"}),
    "clickhouse": frozenset({
        "alter", "between", "cube", "drop", "global", "insert", "lock", "partitioned_by",
        "prewhere", "recursive", "regexp", "revoke", "rlike", "rollback", "rollup",
        "sample", "uncache", "values", "xor"}),
    "tsql": frozenset({
        "alter", "begin", "between", "cube", "drop", "insert", "lock", "option",
        "partitioned_by", "recursive", "regexp", "revoke", "rlike", "rollback", "rollup",
        "uncache", "values", "xor"}),
    "oracle": frozenset({
        "alter", "between", "cube", "drop", "insert", "partitioned_by", "recursive",
        "regexp", "revoke", "rlike", "rollback", "rollup", "systimestamp", "top",
        "uncache", "values", "xor"}),
    "datafusion": frozenset({
        "alter", "between", "cube", "drop", "insert", "lock", "partitioned_by",
        "recursive", "regexp", "revoke", "rlike", "rollback", "rollup", "uncache",
        "values", "xor"}),
}
