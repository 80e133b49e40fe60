"""Hostile values rendered for every dialect stay one harmless expression.

A ``--where`` or spec snippet that survives the checks is embedded as a sqlglot
tree, so the target dialect's generator quotes each identifier and escapes each
literal. These tests compile strange-but-legal inputs for all 14 dialects and
read the SQL back with sqlglot in that dialect: it is one SELECT, with no
comment, and every literal and identifier comes back exactly as written.
"""

from __future__ import annotations

from pathlib import Path

import kpispec
import pytest
import sqlglot
from kpispec.compile.dialects import DIALECTS, sqlglot_dialect
from kpispec.compile.guard import check_single_select
from kpispec.errors import Location, SpecError
from kpispec.spec.snippets import (
    AGGREGATE_FUNCTIONS,
    ANONYMOUS_FUNCTIONS,
    SCALAR_FUNCTIONS,
    function_names,
    parse_query,
    parse_snippet,
)
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from tests.hostile.conftest import write_project

#: String values that try to end the literal they are in, per dialect's quoting rules.
NASTY_STRINGS = [
    "won'); DROP TABLE deals; --",
    "won\\",                       # a trailing backslash (MySQL, BigQuery, Spark escape with it)
    "won\\'; DROP TABLE deals; --",
    "won\\\\' OR 1=1 --",
    "$$; DROP TABLE deals; $$",
    "won\u2019; DROP TABLE deals",  # a right single quotation mark
    "won\u02bc OR 1=1",             # a modifier letter apostrophe
    "line\nbreak\r\n-- comment",
    "tab\there /* not a comment */",
    "nul-free \u2028 separator \u0085 next line",
    "emoji \U0001F600 and ]]>",
    "`; DROP TABLE deals; `",
    '"; DROP TABLE deals; --',
    "%s %(x)s {0} ? :1 $1",
]
NASTY_NAMES = [
    'stage"; DROP TABLE deals; --',
    "stage`; DROP TABLE deals; --",
    "stage]; DROP TABLE deals; --",
    "stage'; DROP TABLE deals; --",
    "stage\\",
    "sélect from",
]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> kpispec.Project:
    root = write_project(tmp_path_factory.mktemp("h9a_render") / "project")
    return kpispec.load_project(root)


def _read_back(sql: str, dialect: str) -> exp.Expr:
    engine = sqlglot_dialect(dialect)
    check_single_select(sql, dialect)
    tokens = sqlglot.Dialect.get_or_raise(engine).tokenize(sql)
    assert not any(t.comments for t in tokens), f"{dialect}: a comment in\n{sql}"
    assert not any(t.token_type == TokenType.SEMICOLON for t in tokens), sql
    trees = [t for t in sqlglot.parse(sql, read=engine) if t is not None]
    assert len(trees) == 1 and isinstance(trees[0], exp.Query), sql
    return trees[0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_where_literals_round_trip_in_every_dialect(project: kpispec.Project, dialect: str) -> None:
    where = " OR ".join(f"stage = {_literal(v)}" for v in NASTY_STRINGS)
    sql = project.compile(["deals_won"], dialect=dialect, where=where, start="2024-01-01",
                          end="2024-02-01").sql
    tree = _read_back(sql, dialect)
    strings = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
    missing = [v for v in NASTY_STRINGS if v not in strings]
    assert not missing, f"{dialect}: these values did not come back intact: {missing}\n{sql}"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("source_dialect", ["duckdb", "postgres", "mysql", "bigquery", "tsql"])
def test_literals_written_in_any_dialect_render_safely(dialect: str, source_dialect: str) -> None:
    for value in NASTY_STRINGS:
        text = f"stage = {_literal(value)}"
        if source_dialect in ("mysql", "bigquery"):  # backslash escapes in these dialects
            text = "stage = '" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        try:
            tree = parse_snippet(text, source_dialect, Location("--where"))
        except SpecError as exc:  # e.g. a character the dialect cannot tokenize
            assert "Traceback" not in str(exc)
            continue
        parsed_value = tree.find(exp.Literal)
        assert parsed_value is not None and parsed_value.this == value, (source_dialect, value)
        select = exp.select("1").from_("deals").where(tree)
        sql = select.sql(dialect=sqlglot_dialect(dialect))
        back = _read_back(sql, dialect)
        assert value in {lit.this for lit in back.find_all(exp.Literal)}, (dialect, sql)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_identifiers_are_quoted_so_a_name_cannot_inject(dialect: str) -> None:
    for name in NASTY_NAMES:
        tree = parse_snippet(f"{_identifier(name)} = 'won'", "duckdb", Location("--where"))
        sql = exp.select(exp.column(exp.to_identifier("period"))).from_(
            exp.table_("deals", db="crm")).where(tree).sql(dialect=sqlglot_dialect(dialect))
        back = _read_back(sql, dialect)
        names = {c.name for c in back.find_all(exp.Column)}
        assert name in names, f"{dialect}: {name!r} did not come back as one column name:\n{sql}"


def test_a_hostile_where_compiles_to_its_literal_in_the_generated_sql(project: kpispec.Project) -> None:
    sql = project.compile(["deals_won"], dialect="postgres",
                          where="stage = 'won''); DROP TABLE deals; --'").sql
    assert "deals.stage = 'won''); DROP TABLE deals; --'" in sql


# -- the allow-list ---------------------------------------------------------------------

ALLOWED_CALLS = {
    "duckdb": [
        "COALESCE(amount, 0)", "NULLIF(amount, 0)", "LOWER(stage)", "UPPER(stage)", "TRIM(stage)",
        "LENGTH(stage)", "SUBSTRING(stage, 1, 2)", "ABS(amount)", "ROUND(amount, 2)",
        "FLOOR(amount)", "CEIL(amount)", "GREATEST(amount, 1)", "LEAST(amount, 1)",
        "DATE_TRUNC('month', created_at)", "EXTRACT(year FROM created_at)", "CURRENT_DATE",
        "DATE_DIFF('day', created_at, closed_at)", "created_at + INTERVAL 1 DAY",
        "CONCAT(stage, region)", "REPLACE(stage, 'a', 'b')", "STRPOS(stage, 'w')",
        "IF(amount > 0, 1, 0)", "CASE WHEN amount > 0 THEN 1 ELSE 0 END",
        "CAST(amount AS DECIMAL(10, 2))", "TRY_CAST(stage AS INTEGER)", "stage || region",
        "amount BETWEEN 1 AND 2", "stage LIKE 'w%'", "stage ILIKE 'W%'", "stage IS NULL",
        "stage IN ('won', 'lost')", "NOT (stage = 'won')", "stage IS DISTINCT FROM region",
        "created_at AT TIME ZONE 'UTC'", "now()", "strftime(created_at, '%Y')", "LPAD(stage, 3, '0')",
        "SPLIT_PART(stage, ',', 1)", "REGEXP_MATCHES(stage, '^w')", "SIGN(amount)", "POWER(amount, 2)",
    ],
    "postgres": [
        "POSITION('w' IN stage)", "STRPOS(stage, 'w')", "stage::text", "DATE_PART('year', created_at)",
        "AGE(closed_at, created_at)", "BTRIM(stage)", "TO_CHAR(created_at, 'YYYY')",
        "created_at + INTERVAL '1 day'", "COALESCE(amount, 0) % 2", "CURRENT_TIMESTAMP",
    ],
    "mysql": ["IFNULL(amount, 0)", "DATE_ADD(created_at, INTERVAL 1 DAY)", "LOCATE('w', stage)",
              "DATEDIFF(closed_at, created_at)", "IF(amount > 0, 1, 0)", "CHAR_LENGTH(stage)"],
    "snowflake": ["IFF(amount > 0, 1, 0)", "DATEADD(day, 1, created_at)", "NVL(amount, 0)",
                  "DATEDIFF(day, created_at, closed_at)", "DIV0(amount, 2)"],
    "bigquery": ["SAFE_DIVIDE(amount, 2)", "DATE_TRUNC(created_at, MONTH)",
                 "TIMESTAMP_DIFF(closed_at, created_at, DAY)"],
    "tsql": ["IIF(amount > 0, 1, 0)", "ISNULL(amount, 0)", "DATEADD(day, 1, created_at)",
             "DATEPART(year, created_at)", "CHARINDEX('w', stage)", "LEN(stage)"],
}


@pytest.mark.parametrize("dialect", sorted(ALLOWED_CALLS))
def test_common_scalar_functions_are_allowed(dialect: str) -> None:
    for call in ALLOWED_CALLS[dialect]:
        parse_snippet(call, dialect, Location("x.yaml"))


REFUSED_CALLS = {
    "duckdb": ["read_csv('/etc/passwd')", "read_csv_auto('x')", "read_parquet('x')", "read_json('x')",
               "read_text('/etc/passwd')", "read_blob('x')", "glob('*')", "getenv('HOME')",
               "query('SELECT 1')", "query_table('deals')", "current_setting('threads')",
               "duckdb_settings()", "sniff_csv('x')", "parquet_metadata('x')", "pragma_version()",
               "current_user", "current_database()", "version()", "uuid()", "random()",
               "list_transform([1], x -> x)", "json_extract(stage, '$.a')", "md5(stage)",
               "repeat(stage, 1000000000)", "array_agg(stage)"],
    "postgres": ["pg_read_file('x')", "pg_read_binary_file('x')", "pg_ls_dir('.')", "pg_sleep(1)",
                 "dblink('x', 'y')", "lo_import('x')", "lo_export(1, 'x')", "current_setting('x')",
                 "set_config('x', 'y', false)", "pg_terminate_backend(1)", "pg_cancel_backend(1)",
                 "txid_current()", "nextval('s')", "setval('s', 1)", "query_to_xml('SELECT 1', true, true, '')",
                 "pg_stat_file('x')", "inet_server_addr()", "session_user", "version()"],
    "mysql": ["LOAD_FILE('x')", "SLEEP(1)", "BENCHMARK(1000000, MD5('x'))", "USER()",
              "DATABASE()", "GET_LOCK('x', 1)", "SYSTEM_USER()", "UUID()"],
    "clickhouse": ["url('http://x', CSV)", "file('x')", "s3('x')", "remote('host', db.t)",
                   "mysql('h', 'd', 't', 'u', 'p')", "hdfs('x')", "executable('x')", "input('x')",
                   "dictGet('d', 'a', 1)", "sleep(1)", "currentUser()"],
    "snowflake": ["SYSTEM$WAIT(1)", "CURRENT_ROLE()", "GET_DDL('table', 'x')", "RANDSTR(5, 1)"],
    "tsql": ["OPENROWSET('x')", "xp_cmdshell('dir')", "SUSER_NAME()", "HOST_NAME()"],
    "bigquery": ["SESSION_USER()", "EXTERNAL_QUERY('c', 'SELECT 1')", "GENERATE_UUID()"],
}


@pytest.mark.parametrize("dialect", sorted(REFUSED_CALLS))
def test_system_and_file_functions_are_refused(dialect: str) -> None:
    for call in REFUSED_CALLS[dialect]:
        with pytest.raises(SpecError) as info:
            parse_snippet(f"{call} IS NOT NULL", dialect, Location("x.yaml", 3, 5))
        message = str(info.value)
        assert message.startswith("x.yaml:3:5: "), message
        assert "is not allowed" in message or "subqueries" in message or "statements" in message, message


def test_every_sqlglot_function_is_either_allowed_or_refused_cleanly() -> None:
    """Each of sqlglot's ~570 function nodes, by its SQL name: accepted only when on the list."""
    allowed = SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS
    seen = 0
    stack: list[type[exp.Expr]] = [exp.Func]
    classes: set[type[exp.Expr]] = set()
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in classes:
                classes.add(sub)
                stack.append(sub)
    for cls in sorted(classes, key=lambda c: c.__name__):
        if not issubclass(cls, exp.Func):
            continue
        for name in cls.sql_names()[:1]:
            for args in ("(x)", "(x, y)", "()"):
                try:
                    tree = parse_snippet(f"{name}{args}", "duckdb", Location("x.yaml"),
                                         allow_aggregates=True)
                except SpecError:
                    seen += 1
                    continue
                for node in tree.walk():
                    if isinstance(node, exp.Anonymous):
                        assert node.name.lower() in ANONYMOUS_FUNCTIONS, node.name
                    elif isinstance(node, exp.Func):
                        assert type(node) in allowed, f"{name}{args} -> {type(node).__name__}"
    assert seen > 300


def test_function_names_lists_sql_spellings() -> None:
    names = function_names()
    for expected in ("COALESCE", "NULLIF", "LOWER", "DATE_TRUNC", "EXTRACT", "CAST", "IIF"):
        assert expected in names
    for forbidden in ("READ_CSV", "AND", "OR"):
        assert forbidden not in names


def test_aggregates_only_where_allowed() -> None:
    with pytest.raises(SpecError, match="aggregate 'SUM\\(amount\\)' is not allowed here"):
        parse_snippet("SUM(amount) > 0", "duckdb", Location("x.yaml"))
    tree = parse_snippet("SUM(amount) / COUNT(DISTINCT deal_id)", "duckdb", Location("x.yaml"),
                         allow_aggregates=True)
    assert tree.find(exp.Sum) is not None
    with pytest.raises(SpecError, match="aggregate function 'array_agg' is not allowed"):
        parse_snippet("array_agg(stage)", "duckdb", Location("x.yaml"), allow_aggregates=True)


def test_messages_give_the_position_on_later_lines() -> None:
    with pytest.raises(SpecError, match="function 'pg_sleep' is not allowed at line 2, column 5"):
        parse_snippet("stage = 'won'\nAND pg_sleep(1) IS NULL", "postgres", Location("x.yaml"))


def test_a_non_string_snippet_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="a SQL snippet must be a string, not int"):
        parse_snippet(1, "duckdb", Location("x.yaml"))  # type: ignore[arg-type]


# -- a model's sql -------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT d.deal_id, d.amount, c.segment FROM crm.deals AS d JOIN crm.customers AS c "
    "ON c.customer_id = d.customer_id WHERE d.stage IN ('won', 'lost')",
    "WITH w AS (SELECT * FROM deals WHERE stage = 'won') SELECT deal_id, amount FROM w",
    "SELECT deal_id, ROW_NUMBER() OVER (PARTITION BY region ORDER BY amount DESC) AS n FROM deals",
    "SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM deals GROUP BY region HAVING COUNT(*) > 1",
    "SELECT deal_id FROM deals UNION ALL SELECT deal_id FROM old_deals",
    "SELECT deal_id, COALESCE(amount, 0) AS amount FROM deals WHERE stage <> 'x''; DROP TABLE deals'",
])
def test_a_model_may_select_join_group_and_window(sql: str) -> None:
    parse_query(sql, "duckdb", Location("x.yaml"))


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "table functions such as read_csv_auto"),
    ("SELECT * FROM glob('/*')", "table functions such as glob"),
    ("SELECT * FROM 'data.parquet'", "table name 'data.parquet' looks like a file"),
    ('SELECT * FROM "https://evil.example/x.csv"', "looks like a file or a URL"),
    ("SELECT * FROM deals, LATERAL read_json('x')", "function|table functions"),
    ("SELECT * FROM deals FOR SHARE", "may not lock rows"),
    ("SELECT getenv('HOME') AS home FROM deals", "function 'getenv' is not allowed in a model's sql"),
    ("SELECT * FROM deals WHERE amount > (SELECT pg_sleep(1))", "function 'pg_sleep'"),
    ("SELECT $$x$$ AS s FROM deals", "only plain '...' string literals"),
])
def test_a_model_reads_tables_by_name_only(sql: str, message: str) -> None:
    dialect = "postgres" if "$$" in sql or "FOR SHARE" in sql else "duckdb"
    with pytest.raises(SpecError, match=message):
        parse_query(sql, dialect, Location("x.yaml"))


def test_long_snippets_and_queries_are_refused_before_parsing(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="snippet is 40001 characters; the limit is 20000"):
        parse_snippet("1" * 40001, "duckdb", Location("x.yaml"))
    with pytest.raises(SpecError, match="a model's sql is 200014 characters; the limit is 100000"):
        parse_query("SELECT " + "1" * 200000 + " FROM t", "duckdb", Location("x.yaml"))


def test_docs_list_every_allowed_function() -> None:
    """docs/security.md names each allowed function by one of its spellings, and no other."""
    import re

    from kpispec.spec.snippets import WINDOW_FUNCTIONS

    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", text))
    for cls in SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS | WINDOW_FUNCTIONS:
        if cls in (exp.And, exp.Or):
            continue
        assert documented & set(cls.sql_names()), f"docs/security.md does not list {cls.sql_names()}"
    for name in ANONYMOUS_FUNCTIONS:
        assert name.upper() in documented, name
    spellings = set(function_names(SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS | WINDOW_FUNCTIONS))
    spellings |= {n.upper() for n in ANONYMOUS_FUNCTIONS}
    spellings |= {"CASE", "POSITION", "STRPOS", "INSTR", "CHARINDEX", "LOCATE", "LPAD", "RPAD",
                  "IFF", "REGEXP_MATCHES", "TO_DATE", "TO_TIMESTAMP", "NOW"}
    section = text.split("### Allowed functions", 1)[1].split("### A model's `sql`", 1)[0]
    rows = "\n".join(line for line in section.splitlines() if line.startswith("| "))
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", rows))
    unknown = sorted(listed - spellings)
    assert not unknown, f"docs/security.md lists functions that are not allowed: {unknown}"
