"""Warehouse write-back sinks: the result into a table of PostgreSQL, MySQL/MariaDB or DuckDB.

Targets are a database URL, as ``--source`` takes them, with the table as the
URL's fragment::

    postgresql://user@host/db#metrics.monthly     (schema metrics, table monthly)
    mysql://user@host/crm#kpis                    (database crm, table kpis)
    mariadb://user@host/crm#reporting.kpis        (database reporting)
    duckdb:///warehouse.duckdb#metrics.monthly    (the file is created if missing)

What a write does, in one transaction:

1. create the schema (database, on MySQL) and the table when they are missing,
   with a column per result column typed from its Arrow type; add result columns
   an existing table lacks (nullable; never drops or changes a column);
2. delete the table's rows whose ``period`` is one of the result's periods —
   every dimension value of those periods, so a value gone from the data does not
   linger;
3. insert the result's rows (PostgreSQL ``COPY``, MySQL parameterised
   ``INSERT``, DuckDB straight from Arrow).

So a rerun replaces what it recomputes and duplicates nothing; periods outside
the run's range are left alone. Any failure rolls the transaction back: the old
rows stay. On MySQL, creating or altering a table commits on its own (MySQL has
no transactional DDL), so step 1 happens first; the rows are replaced in one
InnoDB transaction, and a table whose engine cannot roll back is refused. On
PostgreSQL the table is locked against other writers (readers go on) for the
transaction, so two runs cannot interleave.

Every name is quoted (psycopg's ``sql.Identifier`` on PostgreSQL, sqlglot's
dialect quoting elsewhere) and every value is a parameter or Arrow data: no
value is ever written into SQL text. The sink opens its own read-write
connection; the source connections stay read-only. Messages name the target by
its URL with the password masked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError, InternalError
from kpispec.extensions import SinkContext, SinkType, SourceURL
from kpispec.hookspecs import hookimpl

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

__all__ = ["WarehouseWriter", "open_duckdb", "open_mysql", "open_postgres", "register_sinks",
           "split_target", "sql_type"]

_PG_INSTALL = "pip install 'kpispec[postgres]'"
_MYSQL_INSTALL = "pip install 'kpispec[mysql]'"
#: Storage engines that roll back (MySQL/MariaDB).
_TRANSACTIONAL = frozenset({"innodb", "ndbcluster", "ndb", "tokudb", "rocksdb", "aria"})


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the write-back sinks: ``postgresql_table``, ``mysql_table``, ``duckdb_table``."""
    register(SinkType(name="postgresql_table", schemes=("postgresql", "postgres"), open=open_postgres,
                      description="Write back into a PostgreSQL table: postgresql://…#schema.table "
                      "(created if missing; the run's periods replaced in one transaction)."))
    register(SinkType(name="mysql_table", schemes=("mysql", "mariadb"), open=open_mysql,
                      description="Write back into a MySQL/MariaDB table: mysql://…#db.table "
                      "(created if missing; the run's periods replaced in one transaction)."))
    register(SinkType(name="duckdb_table", schemes=("duckdb",), open=open_duckdb,
                      description="Write back into a DuckDB table: duckdb:///file.duckdb#schema.table "
                      "(created if missing; the run's periods replaced in one transaction)."))


def split_target(target: str, scheme: str) -> tuple[SourceURL, str | None, str]:
    """The connection URL, schema and table of a write-back target.

    ``target`` is what ``--sink`` gave, with or without its ``scheme://``.

    >>> url, schema, table = split_target("me@db/crm#metrics.monthly", "postgresql")
    >>> (url.raw, schema, table)
    ('postgresql://me@db/crm', 'metrics', 'monthly')

    Raises:
        ExecutionError: no ``#table``, or an empty schema or table name.
    """
    from kpispec.project import parse_source_url

    if "://" not in target:  # the core passes what follows "scheme://"
        target = f"{scheme}://{target}"
    address, sep, fragment = target.partition("#")
    url = parse_source_url(address)
    if not sep or not fragment.strip():
        raise ExecutionError(f"sink {url}: name the table to write after '#': "
                             f"e.g. --sink '{url}#metrics.monthly' (schema.table) or '#monthly'")
    schema, dot, table = fragment.rpartition(".") if "." in fragment else ("", "", fragment)
    if (dot and not schema) or not table:
        raise ExecutionError(f"sink {url}#{fragment}: {fragment!r} is not [schema.]table")
    return url, schema or None, table


def sql_type(arrow: pa.DataType, dialect: str) -> exp.DataType:
    """The column type a result column gets in a new table (or a new column).

    >>> import pyarrow as pa
    >>> [sql_type(t, "postgres").sql("postgres") for t in (pa.date32(), pa.float64(), pa.string())]
    ['DATE', 'DOUBLE PRECISION', 'TEXT']
    """
    import pyarrow as pa
    from sqlglot import exp

    if pa.types.is_date(arrow):
        name = "DATE"
    elif pa.types.is_timestamp(arrow):
        name = "DATETIME(6)" if dialect == "mysql" else ("TIMESTAMPTZ" if arrow.tz else "TIMESTAMP")
    elif pa.types.is_boolean(arrow):
        name = "BOOLEAN"
    elif pa.types.is_integer(arrow):
        name = "BIGINT"
    elif pa.types.is_floating(arrow):
        name = "DOUBLE"
    elif pa.types.is_decimal(arrow):
        name = f"DECIMAL({arrow.precision}, {arrow.scale})"
    else:  # text, and anything else (written as its text)
        name = "TEXT"
    return exp.DataType.build(name, dialect=dialect)


def open_postgres(target: str, schema: pa.Schema, context: SinkContext) -> WarehouseWriter:
    """Open a write-back to a PostgreSQL table (``postgresql://…#[schema.]table``)."""
    url, space, table = split_target(target, "postgresql")
    return WarehouseWriter(_Postgres(url, space, table), schema)


def open_mysql(target: str, schema: pa.Schema, context: SinkContext) -> WarehouseWriter:
    """Open a write-back to a MySQL or MariaDB table (``mysql://…#[database.]table``)."""
    url, space, table = split_target(target, "mysql")
    return WarehouseWriter(_MySQL(url, space, table), schema)


def open_duckdb(target: str, schema: pa.Schema, context: SinkContext) -> WarehouseWriter:
    """Open a write-back to a DuckDB table (``duckdb:///file.duckdb#[schema.]table``)."""
    url, space, table = split_target(target, "duckdb")
    return WarehouseWriter(_DuckDB(url, space, table), schema)


class WarehouseWriter:
    """Collects the result and replaces its periods in the table on :meth:`close`.

    The rows are kept (as Arrow batches) until the whole result has been read, so
    nothing reaches the table unless the run succeeded; then one transaction
    replaces them.
    """

    def __init__(self, engine: _Engine, schema: pa.Schema) -> None:
        if "period" not in schema.names:
            engine.close()
            raise ExecutionError(f"sink {engine.label}: the result has no 'period' column to "
                                 "replace rows by")
        self.engine = engine
        self.schema = schema
        self._batches: list[pa.RecordBatch] = []
        self._done = False

    def write(self, batch: pa.RecordBatch) -> None:
        """Keep one batch."""
        if list(batch.schema.names) != list(self.schema.names):
            raise InternalError(f"sink {self.engine.label} got a batch with columns "
                                f"{batch.schema.names}, expected {self.schema.names}")
        self._batches.append(batch)

    def close(self) -> None:
        """Replace the result's periods in the table, in one transaction."""
        import pyarrow as pa

        if self._done:
            return
        self._done = True
        data = pa.Table.from_batches(self._batches, schema=self.schema)
        self._batches = []
        try:
            self.engine.replace(data)
        finally:
            self.engine.close()

    def abort(self) -> None:
        """Write nothing; the table keeps its rows."""
        self._done = True
        self._batches = []
        self.engine.close()


class _Engine:
    """One database's way of replacing periods in a table."""

    dialect = ""

    def __init__(self, url: SourceURL, schema: str | None, table: str) -> None:
        self.url = url
        self.schema = schema
        self.table = table
        self.label = f"{url}#{schema + '.' if schema else ''}{table}"

    def replace(self, data: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection (rolling back anything not committed). Safe to repeat."""

    def fail(self, what: str, message: str) -> ExecutionError:
        return ExecutionError(f"sink {self.label}: {what} failed, the table is unchanged: {message}")

    def columns_to_add(self, existing: Sequence[str], data: pa.Table) -> list[str]:
        have = {c.lower() for c in existing}
        return [name for name in data.column_names if name.lower() not in have]

    def table_expr(self, escape_percent: bool = False) -> exp.Table:
        from sqlglot import exp

        def part(name: str) -> exp.Identifier:
            return exp.to_identifier(name.replace("%", "%%") if escape_percent else name, quoted=True)

        return exp.Table(this=part(self.table), db=part(self.schema) if self.schema else None)

    def create_expr(self, data: pa.Table) -> exp.Create:
        from sqlglot import exp

        columns = [exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True),
                                 kind=sql_type(f.type, self.dialect)) for f in data.schema]
        return exp.Create(this=exp.Schema(this=self.table_expr(), expressions=columns),
                          kind="TABLE", exists=True)

    def add_column_expr(self, field: pa.Field) -> exp.Alter:
        from sqlglot import exp

        return exp.Alter(this=self.table_expr(), kind="TABLE", actions=[
            exp.ColumnDef(this=exp.to_identifier(field.name, quoted=True),
                          kind=sql_type(field.type, self.dialect))])


# -- PostgreSQL --------------------------------------------------------------------------------


class _Postgres(_Engine):
    dialect = "postgres"

    def __init__(self, url: SourceURL, schema: str | None, table: str) -> None:
        super().__init__(url, schema, table)
        try:
            import psycopg
        except ImportError:
            raise ExecutionError(f"sink {self.label} needs psycopg: {_PG_INSTALL}") from None
        from kpispec_builtins.postgres_source import PostgresConnection, connect_params

        self._message: Callable[[BaseException], str] = (
            lambda exc: PostgresConnection.one_line(exc, url.password))
        params = connect_params(url)
        params.pop("application_name", None)
        try:
            self._con: Any = psycopg.connect(autocommit=True, application_name="kpispec sink", **params)
        except psycopg.Error as exc:
            raise ExecutionError(f"sink {self.label}: cannot connect: {self._message(exc)}") from None

    def replace(self, data: pa.Table) -> None:
        import psycopg
        from psycopg import sql

        con = self._con
        name = (sql.Identifier(self.schema, self.table) if self.schema
                else sql.Identifier(self.table))
        # The server quotes the name (format's %I): the table's columns, none if it is missing.
        columns_of = sql.SQL(_PG_COLUMNS_QUALIFIED if self.schema else _PG_COLUMNS)
        names = [self.schema, self.table] if self.schema else [self.table]
        periods = _periods(data)
        try:
            with con.transaction():
                if self.schema:
                    con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(self.schema)))
                existing = [r[0] for r in con.execute(columns_of, names).fetchall()]
                if not existing:
                    con.execute(sql.SQL("CREATE TABLE {} ({})").format(name, sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(f.name),
                                                sql.SQL(sql_type(f.type, "postgres").sql("postgres")))
                        for f in data.schema)))
                    existing = list(data.column_names)
                for column in self.columns_to_add(existing, data):
                    field = data.schema.field(column)
                    con.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        name, sql.Identifier(column),
                        sql.SQL(sql_type(field.type, "postgres").sql("postgres"))))
                con.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(name))
                # A statement with parameters goes through psycopg's placeholder parser, which
                # knows no quoting: a '%' in the name is doubled ('#s.%s%s' is a table name).
                con.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                    sql.Identifier(*(part.replace("%", "%%") for part in names)),
                    sql.Identifier("period")), [periods])
                with con.cursor() as cursor, cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                        name, sql.SQL(", ").join(map(sql.Identifier, data.column_names)))) as copy:
                    for row in _rows(data):
                        copy.write_row(row)
        except psycopg.Error as exc:
            raise self.fail("writing", self._message(exc)) from None

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            con.close()


_PG_COLUMNS_QUALIFIED = """
SELECT a.attname FROM pg_attribute AS a
WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_PG_COLUMNS = """
SELECT a.attname FROM pg_attribute AS a
WHERE a.attrelid = to_regclass(format('%%I', %s::text))
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


# -- MySQL / MariaDB ---------------------------------------------------------------------------


class _MySQL(_Engine):
    dialect = "mysql"

    def __init__(self, url: SourceURL, schema: str | None, table: str) -> None:
        super().__init__(url, schema, table)
        try:
            import pymysql
        except ImportError:
            raise ExecutionError(f"sink {self.label} needs PyMySQL: {_MYSQL_INSTALL}") from None
        from kpispec_builtins.mysql_source import MySQLConnection, connect_params

        params = connect_params(url)
        self._message: Callable[[BaseException], str] = (
            lambda exc: MySQLConnection.one_line(exc, params["password"]))
        if not self.schema and not url.database:
            raise ExecutionError(f"sink {self.label}: name the database, in the URL "
                                 "(mysql://host/db#table) or the fragment (#db.table)")
        try:
            self._con: Any = pymysql.connect(database=url.database or None, **params)
        except pymysql.MySQLError as exc:
            raise ExecutionError(f"sink {self.label}: cannot connect: {self._message(exc)}") from None

    def replace(self, data: pa.Table) -> None:
        import pymysql
        from sqlglot import exp

        con = self._con
        where = [self.schema or self.url.database, self.table]
        step = "creating the table"
        try:
            with con.cursor() as cursor:
                if self.schema:
                    cursor.execute(exp.Create(this=exp.to_identifier(self.schema, quoted=True),
                                              kind="DATABASE", exists=True).sql("mysql"))
                cursor.execute("SELECT ENGINE FROM information_schema.TABLES "
                               "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", where)
                found = cursor.fetchone()
                if found is None:
                    create = self.create_expr(data).sql("mysql") + " ENGINE=InnoDB"
                    cursor.execute(create)
                elif str(found[0] or "").lower() not in _TRANSACTIONAL:
                    raise ExecutionError(
                        f"sink {self.label}: the table's storage engine {found[0]!r} cannot roll "
                        "back, so a failed write could leave it half-replaced; convert it "
                        "(ALTER TABLE … ENGINE=InnoDB) or write to a new table")
                cursor.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                               "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", where)
                existing = [r[0] for r in cursor.fetchall()]
                step = "adding columns"
                for column in self.columns_to_add(existing, data):
                    cursor.execute(self.add_column_expr(data.schema.field(column)).sql("mysql"))
            step = "replacing the rows"
            table = self.table_expr(escape_percent=True)
            placeholder = exp.var("%s")
            delete = exp.delete(table.copy(), where=exp.EQ(
                this=exp.column("period", quoted=True), expression=placeholder.copy())).sql("mysql")
            insert = exp.insert(
                exp.Values(expressions=[exp.Tuple(expressions=[placeholder.copy()
                                                               for _ in data.column_names])]),
                table.copy(),
                columns=[exp.to_identifier(c.replace("%", "%%"), quoted=True) for c in data.column_names],
            ).sql("mysql")
            con.begin()
            try:
                with con.cursor() as cursor:
                    cursor.executemany(delete, [(p,) for p in _periods(data)])
                    rows = [tuple(_mysql_value(v) for v in row) for row in _rows(data)]
                    for start in range(0, len(rows), 5000):
                        cursor.executemany(insert, rows[start:start + 5000])
                con.commit()
            except BaseException:
                try:
                    con.rollback()
                except Exception:
                    pass
                raise
        except pymysql.MySQLError as exc:
            raise self.fail(step, self._message(exc)) from None

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            try:
                con.close()
            except Exception:
                pass


def _mysql_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # MySQL has no NaN
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


# -- DuckDB ------------------------------------------------------------------------------------


class _DuckDB(_Engine):
    dialect = "duckdb"

    def __init__(self, url: SourceURL, schema: str | None, table: str) -> None:
        super().__init__(url, schema, table)
        import os

        if url.host:
            raise ExecutionError(f"sink {self.label}: a duckdb:// URL has no host; write "
                                 "duckdb:///relative.duckdb#table or duckdb:////abs/path.duckdb#table")
        if url.database in ("", ":memory:"):
            raise ExecutionError(f"sink {self.label}: an in-memory database vanishes with the run; "
                                 "name a file: duckdb:///kpis.duckdb#table")
        self.path = os.path.expanduser(url.database)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise ExecutionError(f"sink {self.label}: directory {directory!r} does not exist; "
                                 "create it first")

    def replace(self, data: pa.Table) -> None:
        import uuid

        import duckdb
        from sqlglot import exp

        try:  # connected only now: the source may be this very file, closed by then
            con = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise self.fail("opening the database", _first_line(exc)) from None
        view = f"kpispec_rows_{uuid.uuid4().hex}"
        try:
            con.register(view, data)
            con.execute("BEGIN TRANSACTION")
            try:
                if self.schema:
                    con.execute(exp.Create(this=exp.to_identifier(self.schema, quoted=True),
                                           kind="SCHEMA", exists=True).sql("duckdb"))
                existing = [r[0] for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "coalesce(?, current_schema()) AND table_name = ? ORDER BY ordinal_position",
                    [self.schema, self.table]).fetchall()]
                if not existing:
                    con.execute(self.create_expr(data).sql("duckdb"))
                    existing = list(data.column_names)
                for column in self.columns_to_add(existing, data):
                    con.execute(self.add_column_expr(data.schema.field(column)).sql("duckdb"))
                rows = exp.to_identifier(view, quoted=True)
                period = exp.column("period", quoted=True)
                con.execute(exp.delete(self.table_expr(), where=exp.In(
                    this=period.copy(),
                    query=exp.select(period.copy()).from_(exp.Table(this=rows.copy())).subquery()
                )).sql("duckdb"))
                names = [exp.to_identifier(c, quoted=True) for c in data.column_names]
                con.execute(exp.insert(
                    exp.select(*[exp.column(n.copy()) for n in names]).from_(exp.Table(this=rows)),
                    self.table_expr(), columns=names).sql("duckdb"))
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except Exception:
                    pass
                raise
        except duckdb.Error as exc:
            raise self.fail("writing", _first_line(exc)) from None
        finally:
            con.close()


# -- shared ------------------------------------------------------------------------------------


def _periods(data: pa.Table) -> list[Any]:
    return sorted({v for v in data.column("period").to_pylist() if v is not None},
                  key=lambda v: (str(type(v)), v))


def _rows(data: pa.Table) -> list[tuple[Any, ...]]:
    return list(zip(*(column.to_pylist() for column in data.columns)))


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
