"""Starting Spark for the ``spark`` source (see :mod:`kpispec_builtins.spark_source`):
a local or cluster SparkContext, or a Spark Connect session; Java found first; the
JVM and pyspark kept quiet; pyspark's errors on one line."""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import warnings
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "LOCAL",
    "alive",
    "context_of",
    "import_pyspark",
    "spark_errors",
    "spark_message",
    "start_classic",
    "start_connect",
]

_INSTALL = "the Spark source needs pyspark: pip install 'kpispec[spark]'"
_INSTALL_CONNECT = ("Spark Connect (sc://) needs pyspark with its connect extras: "
                    "pip install 'pyspark[connect]'")
#: A local master: ``local``, ``local[N]``, ``local[*]``.
LOCAL = re.compile(r"local(?:\[(?P<threads>[1-9][0-9]*|\*)\])?", re.IGNORECASE)
_QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
_LOG4J2 = """\
# Spark (when run from Python) resets the root level to WARN at start-up and says so on
# stderr unless the root is at WARN already; kpispec sets FATAL once Spark is up.
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
"""

_log_config: str | None = None


def start_classic(master: str, label: str, *, any_local: bool = False) -> SparkSession:
    """Start Spark for ``master``, or adopt the SparkContext already running in the process
    (a notebook's) when its master is the one asked for (any local one for ``any_local``)."""
    pyspark = import_pyspark()
    from pyspark.sql import SparkSession

    _quiet_pyspark()
    active = pyspark.SparkContext._active_spark_context
    if active is not None:
        running = active.master
        if running != master and not (any_local and LOCAL.fullmatch(running)):
            raise ExecutionError(
                f"cannot start Spark for {label}: this process already runs Spark with master "
                f"{running}, and Spark allows one per process; use spark://{running} or stop it"
            )
        # Adopted as it is: each connection sets its own time zone on its child session.
        return SparkSession.builder.getOrCreate()
    _check_java()
    builder = (SparkSession.builder.master(master).appName("kpispec")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    local = LOCAL.fullmatch(master)
    if local is not None:
        threads = local.group("threads")
        partitions = (os.cpu_count() or 2) if threads in (None, "*") else int(threads)
        builder = (builder.config("spark.sql.shuffle.partitions", str(partitions))
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile=file:{_quiet_log_config()}"))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises many kinds while starting
        text = spark_message(exc)
        if "JAVA_GATEWAY_EXITED" in text or "Java gateway" in text:
            raise ExecutionError(
                f"cannot start Spark for {label}: the Java process did not start ({text}); "
                "Spark needs Java 17 or later: set JAVA_HOME to its installation"
            ) from None
        raise ExecutionError(f"cannot start Spark for {label}: {text}") from None
    session.sparkContext.setLogLevel("FATAL")  # kpispec reports failures itself
    return session


def start_connect(master: str, label: str) -> SparkSession:
    import_pyspark()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # about the pandas version
            import pyspark.sql.connect.session  # noqa: F401 - checks grpcio and friends
    except (ImportError, SystemExit):  # a half-imported pyspark.sql.connect can exit instead
        raise ExecutionError(_INSTALL_CONNECT) from None
    from pyspark.sql import SparkSession

    _quiet_pyspark()
    try:
        builder = SparkSession.builder.remote(master)
        # create() (pyspark 3.5+) opens a session on *this* server; getOrCreate() would
        # return the process's default Connect session, whichever server it talks to.
        session = builder.create() if hasattr(builder, "create") else builder.getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
    except Exception as exc:  # gRPC and pyspark raise many kinds
        raise ExecutionError(f"cannot connect to Spark Connect at {label}: "
                             f"{spark_message(exc)}") from None
    return session


def alive(session: SparkSession) -> bool:
    if context_of(session) is None:
        return not getattr(session, "is_stopped", False)
    return getattr(session.sparkContext, "_jsc", None) is not None


def context_of(session: SparkSession) -> Any:
    """The session's SparkContext, or None on Spark Connect (which has none)."""
    try:
        return session.sparkContext
    except Exception:  # Spark Connect raises on sparkContext
        return None


def import_pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return pyspark


def _check_java() -> None:
    """Fail clearly, before pyspark tries, when there is no Java to start Spark with."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = os.path.join(java_home, "bin", "java.exe" if os.name == "nt" else "java")
        if not os.path.isfile(java):
            raise ExecutionError(
                f"the Spark source needs Java 17 or later, but JAVA_HOME={java_home!r} has no "
                "bin/java: set JAVA_HOME to a Java installation"
            )
    elif shutil.which("java") is None:
        raise ExecutionError(
            "the Spark source needs Java 17 or later, and none was found: install a JDK "
            "and set JAVA_HOME to it (or put java on PATH)"
        )


def _quiet_pyspark() -> None:
    """Silence what pyspark prints on its own: kpispec reports failures itself.

    pyspark 4 logs every failed query as JSON with a stack trace, and warns about
    the installed pandas version when ``pyspark.testing.utils`` is first imported
    (its type converters import it on first use, whether or not pandas is involved).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            import pyspark.testing.utils  # noqa: F401
        except ImportError:
            pass
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark < 4 has no such loggers
        return
    for name in _QUERY_CONTEXT_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _quiet_log_config() -> str:
    """A log4j2 configuration that lets only fatal JVM messages through (written once)."""
    global _log_config
    if _log_config is None:
        directory = tempfile.mkdtemp(prefix="kpispec-spark-")
        path = os.path.join(directory, "log4j2.properties")
        with open(path, "w", encoding="utf-8") as file:
            file.write(_LOG4J2)
        atexit.register(shutil.rmtree, directory, True)
        _log_config = path
    return _log_config


def spark_errors() -> tuple[type[BaseException], ...]:
    """The exceptions pyspark and py4j raise for a failed query (and Arrow's, converting)."""
    import pyarrow as pa
    from pyspark.errors import PySparkException

    errors: list[type[BaseException]] = [PySparkException, pa.ArrowException, ConnectionError]
    try:
        from py4j.protocol import Py4JError
    except ImportError:  # Spark Connect only
        pass
    else:
        errors.append(Py4JError)
    return tuple(errors)


_JAVA_CLASS = re.compile(r"^(?:[a-z_][\w$]*\.)+(?=[A-Z][\w$]*(?:Exception|Error)\b)")


def spark_message(exc: BaseException) -> str:
    """The first meaningful line of a pyspark or py4j error, without Java package names."""
    for line in str(exc).splitlines():
        line = line.strip()
        if not line or line.startswith("An error occurred while calling"):
            continue
        line = _JAVA_CLASS.sub("", line.removeprefix(": ").strip())
        return line.rstrip(";")
    return type(exc).__name__
