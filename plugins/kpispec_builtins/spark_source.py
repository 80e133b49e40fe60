"""The ``spark`` source: Apache Spark SQL, on this machine or on a cluster (pyspark).

URLs:

* ``spark://local[N]`` — a Spark started in this process with N worker threads
  (``local[*]``: one per core);
* ``spark://local`` — the local Spark already running in this process, whatever
  its thread count, or else a new ``local[*]``;
* ``spark://HOST:PORT`` — the standalone cluster master at HOST (port 7077 by
  default); this process is the driver;
* ``sc://HOST:PORT`` — a Spark Connect server (``pip install 'pyspark[connect]'``);
  Spark Connect parameters follow as in Spark (``sc://HOST:15002/;token=…``);
* ``…/NAME`` — after the master, makes NAME the current database
  (``spark://local[2]/crm``);
* ``?path=DIR`` — every ``*.parquet`` file and Parquet sub-directory of DIR (a
  directory this process and the executors see at the same path) becomes a
  temporary view named after the file's stem or the sub-directory; ``*.csv``
  files (with a header row; types inferred) too. A view is created when a query
  (or ``describe``) first names it, since reading a file's schema takes Spark a
  moment.

Tables are otherwise those of the session catalog (the metastore, for a
cluster that has one). Starting Spark takes seconds, so the module keeps one
session per master and each connection opens a light child session on it
(``newSession()``: its own temporary views and settings, shared executors);
closing a connection drops its views but never stops Spark. Only one
SparkContext can run in a process, so asking for a second master is an error
until :func:`stop_sessions` stops the first. Every session runs in UTC
(``spark.sql.session.timeZone``), so naive timestamps mean UTC as on every
other source.

Results come back as Arrow: integers as ``int64``, floats and decimals as
``float64``, timestamps as naive ``timestamp[us]`` (UTC), dates as ``date32``.
A timeout cancels the query's Spark jobs (tagged per query); Spark stops the
tasks at its next interruption check and the connection stays usable. Ctrl-C
cancels them too (pyspark's own SIGINT handler cancels every job of a local
Spark; on Spark Connect kpispec interrupts the session's operations). Spark SQL
has no read-only session: the guard (one SELECT, no statement) is what keeps
writes out, with the permissions of the Spark user.

A Spark kpispec starts is quiet: the JVM logs only fatal messages (a local
master gets its own log4j2 configuration through ``spark.driver.extraJavaOptions``),
and pyspark's JSON log of every failed query is switched off — kpispec reports
each failure as one message.

pyspark and pyarrow are imported on first use only; the local JVM needs Java 17
or later (``JAVA_HOME``, or ``java`` on ``PATH``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._data_dir import data_files
from kpispec_builtins._source_base import SourceConnection, stop_watchers
from kpispec_builtins._spark_jobs import JobWatchdog, interrupt_all
from kpispec_builtins._spark_start import (
    LOCAL,
    alive,
    spark_errors,
    spark_message,
    start_classic,
    start_connect,
)
from kpispec_builtins._timeout import OnInterrupt

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

__all__ = [
    "DIALECT",
    "SparkConnection",
    "connect",
    "master_url",
    "register_sources",
    "stop_sessions",
]

#: The sqlglot dialect Spark SQL speaks.
DIALECT = "spark"
#: Query parameters a ``spark://`` or ``sc://`` URL accepts.
_QUERY_KEYS = frozenset({"path"})
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

_lock = threading.RLock()
#: master URL → the root session kpispec started (or found) for it.
_sessions: dict[str, SparkSession] = {}


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``spark`` source (schemes ``spark`` and ``sc``, sqlglot dialect ``spark``)."""
    register(
        SourceType(
            name="spark",
            schemes=("spark", "sc"),
            dialect=DIALECT,
            connect=connect,
            description="Apache Spark SQL: spark://local[N] in this process, spark://HOST:7077 "
            "for a cluster, sc://HOST:15002 for Spark Connect; ?path=DIR exposes Parquet "
            "files as views.",
        )
    )


class SparkConnection(SourceConnection["SparkSession"]):
    """A Spark session satisfying :class:`kpispec.Connection`.

    Args:
        session: the Spark session to query (a child of a shared root session;
            it is never stopped by :meth:`close`, which drops its temporary views).
        label: how error messages name the source, usually ``str(url)``.
    """

    dialect = DIALECT
    engine = "Spark"

    def __init__(self, session: SparkSession, label: str) -> None:
        super().__init__(session, label)
        #: Temporary views this connection created (dropped by :meth:`close`).
        self.views: list[str] = []
        #: ``?path=`` files not yet registered as views: lower-case name → (name, path, kind).
        self._files: dict[str, tuple[str, str, str]] = {}

    @property
    def spark(self) -> SparkSession:
        """The connection's ``SparkSession`` (for tests and for registering data)."""
        return self._open()

    @classmethod
    def one_line(cls, exc: BaseException | str, secret: str | None = None) -> str:
        """The first meaningful line of a pyspark or py4j error, without Java package names."""
        return super().one_line(exc if isinstance(exc, str) else spark_message(exc), secret)

    def _run(self, session: SparkSession, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        """Collect the result; a timeout cancels the query's Spark jobs."""
        import pyarrow as pa

        if self._files:
            self._register(_table_names(sql))
        errors = spark_errors()
        watchdog = JobWatchdog(session, timeout) if timeout is not None else None
        interrupt = OnInterrupt(lambda: interrupt_all(session))
        try:
            table = _to_arrow(session.sql(sql))
        except errors as exc:
            raise self._error(exc, watchdog, interrupt) from None
        finally:
            stop_watchers(watchdog, interrupt)
        table = _normalize(table)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not
        exist, from the session catalog (temporary views included)."""
        session = self.spark
        if self._files:
            self._register({table.lower()})
        try:
            if not session.catalog.tableExists(table):
                return None
            return [field.name for field in session.table(table).schema.fields]
        except spark_errors() as exc:
            raise self.catalog_failed(exc) from None

    def _release(self, session: SparkSession) -> None:
        """Drop this connection's temporary views; the shared Spark session keeps running
        (see :func:`stop_sessions`)."""
        views, self.views = self.views, []
        for view in views:
            try:
                session.catalog.dropTempView(view)
            except Exception:  # a stopped Spark has no views left to drop
                break

    def _register(self, names: set[str]) -> None:
        """Register the ``?path=`` files among ``names`` (lower case) as temporary views.

        Reading a Parquet file's schema takes Spark a moment, so views are created
        when a query first names them rather than all at connect time.
        """
        session = self.spark
        errors = spark_errors()
        for key in sorted(names & self._files.keys()):
            name, path, kind = self._files.pop(key)
            try:
                if kind == "csv":
                    frame = session.read.csv(path, header=True, inferSchema=True)
                else:
                    frame = session.read.parquet(path)
                frame.createOrReplaceTempView(_quote(name))
            except errors as exc:
                raise ExecutionError(
                    f"cannot read {path!r} as view {name!r} ({self.label}): {self.message(exc)}"
                ) from None
            self.views.append(_quote(name))


def master_url(url: SourceURL) -> str:
    """The Spark master a ``spark://`` or ``sc://`` URL names.

    >>> from kpispec.extensions import SourceURL
    >>> master_url(SourceURL(raw="spark://local[2]?path=data", scheme="spark"))
    'local[2]'
    >>> master_url(SourceURL(raw="spark://local", scheme="spark"))
    'local[*]'
    >>> master_url(SourceURL(raw="spark://spark-master/crm", scheme="spark"))
    'spark://spark-master:7077'
    >>> master_url(SourceURL(raw="sc://connect:15002/;user_id=me", scheme="sc"))
    'sc://connect:15002/;user_id=me'

    Raises:
        ExecutionError: the URL names no master, or carries a user name or password.
    """
    scheme, netloc, path, _ = _split(url)
    label = str(url)
    if scheme == "sc":
        if not netloc:
            raise ExecutionError(f"{label}: name the Spark Connect server, e.g. sc://HOST:15002")
        return f"sc://{netloc}{'/' + path if path else ''}"
    if "@" in netloc:
        raise ExecutionError(f"{label}: a spark:// master takes no user name or password")
    local = LOCAL.fullmatch(netloc)
    if local is not None:
        return f"local[{local.group('threads') or '*'}]"
    host, _, port = netloc.partition(":")
    if not _HOST.fullmatch(host) or (port and not port.isdigit()):
        raise ExecutionError(
            f"{label}: name the Spark master: spark://local[N] (N threads in this process), "
            "spark://local (one thread per core) or spark://HOST:7077 (a standalone cluster)"
        )
    return f"spark://{host}:{port or 7077}"


def connect(url: SourceURL) -> SparkConnection:
    """Open a Spark session for a ``spark://`` or ``sc://`` URL.

    Starts Spark (or connects to the master) on first use for a master, then
    reuses it; registers the ``?path=`` directory's files as temporary views.

    Raises:
        ExecutionError: pyspark or Java is missing, the URL is malformed, Spark
            did not start, the database does not exist, or a file cannot be read.
    """
    label = str(url)
    scheme, netloc, path, query = _split(url)
    unknown = sorted(set(query) - _QUERY_KEYS)
    if unknown:
        raise ExecutionError(
            f"{label}: unknown query parameter {unknown[0]!r}; "
            f"a {scheme}:// URL accepts only {', '.join(sorted(_QUERY_KEYS))}"
        )
    master = master_url(url)
    database = "" if scheme == "sc" else path.strip("/")
    root = _root_session(master, label, any_local=scheme == "spark" and netloc.lower() == "local")
    errors = spark_errors()
    try:
        session = root.newSession()
    except errors:  # an older Spark Connect without newSession(): share the root session
        session = root
    try:
        session.conf.set("spark.sql.session.timeZone", "UTC")
    except errors as exc:
        raise ExecutionError(f"cannot configure the Spark session for {label}: "
                             f"{SparkConnection.one_line(exc)}") from None
    connection = SparkConnection(session, label)
    try:
        if database:
            if not session.catalog.databaseExists(database):
                raise ExecutionError(f"Spark database {database!r} does not exist ({label})")
            session.catalog.setCurrentDatabase(database)
        if "path" in query:
            _register_directory(connection, query["path"])
    except errors as exc:
        connection.close()
        raise ExecutionError(f"cannot open {label}: {SparkConnection.one_line(exc)}") from None
    except BaseException:
        connection.close()
        raise
    return connection


def stop_sessions() -> None:
    """Stop every Spark session this module started or adopted (tests; end of a notebook).

    Connections still open on them fail from then on. The next :func:`connect`
    starts Spark again.
    """
    with _lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        try:
            session.stop()
        except Exception:  # already stopped
            pass


# -- sessions ---------------------------------------------------------------------------


def _root_session(master: str, label: str, *, any_local: bool = False) -> SparkSession:
    """The shared session for ``master``, started on first use; with ``any_local``,
    whichever local session is running."""
    with _lock:
        session = _sessions.get(master)
        if session is not None and alive(session):
            return session
        if any_local:
            for other, running in _sessions.items():
                if LOCAL.fullmatch(other) and alive(running):
                    return running
        _sessions.pop(master, None)
        if master.startswith("sc://"):
            session = start_connect(master, label)
        else:
            for other, running in list(_sessions.items()):
                if not other.startswith("sc://") and alive(running):
                    raise ExecutionError(
                        f"cannot start Spark for {label}: this process already runs Spark with "
                        f"master {other}, and Spark allows one per process; use the same master, "
                        "or call kpispec_builtins.spark_source.stop_sessions() first"
                    )
            session = start_classic(master, label, any_local=any_local)
            master = session.sparkContext.master or master  # a local Spark found running may differ
        _sessions[master] = session
        return session


# -- data -------------------------------------------------------------------------------


def _register_directory(connection: SparkConnection, directory: str) -> None:
    """List the Parquet/CSV files (and Parquet sub-directories) of ``directory`` as the
    connection's views-to-be (registered by :meth:`SparkConnection._register`)."""
    _, files = data_files(directory, label=connection.label, where="?path= directory",
                          clash=f"?path={directory!r}", noun="view",
                          fold_case=True)  # Spark's names are case-insensitive
    for file in files:
        connection._files[file.name.lower()] = (file.name, file.path, file.kind)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _to_arrow(frame: Any) -> pa.Table:
    """``DataFrame.toArrow()`` (pyspark 4), or the batches of ``_collect_as_arrow`` before."""
    import pyarrow as pa

    to_arrow = getattr(frame, "toArrow", None)
    if to_arrow is not None:
        return to_arrow()
    from pyspark.sql.pandas.types import to_arrow_schema

    batches = frame._collect_as_arrow()
    return pa.Table.from_batches(batches, schema=to_arrow_schema(frame.schema))


def _normalize(table: pa.Table) -> pa.Table:
    """Cast result columns to the types every kpispec source returns (see the module doc)."""
    for i, field in enumerate(table.schema):
        target = _target_type(field.type)
        if target != field.type:
            table = table.set_column(i, field.with_type(target), table.column(i).cast(target))
    return table


def _target_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_integer(t):
        return pa.int64() if pt.is_signed_integer(t) or t.bit_width < 64 else t
    if pt.is_floating(t) or pt.is_decimal(t):
        return pa.float64()
    if pt.is_timestamp(t):
        return pa.timestamp("us")  # the session runs in UTC: naive UTC wall-clock time
    if pt.is_date(t):
        return pa.date32()
    if pt.is_large_string(t):
        return pa.string()
    return t


def _split(url: SourceURL) -> tuple[str, str, str, dict[str, str]]:
    """(scheme, master part, path, query) of the raw URL.

    Read from ``url.raw``, because ``local[N]`` is no host name a URL parser accepts.
    """
    scheme, _, rest = url.raw.partition("://")
    rest = rest.partition("#")[0]
    rest, _, query_text = rest.partition("?")
    netloc, _, path = rest.partition("/")
    return scheme.lower().split("+", 1)[0], netloc, unquote(path), dict(parse_qsl(query_text))


def _table_names(sql: str) -> set[str]:
    """Lower-case names of the tables ``sql`` reads without a database qualifier."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read=DIALECT)
    return {t.name.lower() for t in tree.find_all(exp.Table) if not t.db and t.name}
