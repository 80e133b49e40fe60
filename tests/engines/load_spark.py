"""Load Arrow tables for Spark, for the cross-engine tests.

``load(tables, directory)`` writes each table as ``<directory>/<table>.parquet``
(pyarrow.parquet) and returns ``spark://local[2]?path=<directory>``: a local
Spark with two threads, where every file is a temporary view named after the
table. Timestamps are stored as naive ``timestamp[us]`` (UTC), which Spark
reads as ``TIMESTAMP_NTZ``; dates as ``date32``. No Spark is started here: the
first query through the URL starts it (see kpispec_builtins.spark_source).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["MASTER", "load", "write_parquet"]

#: The Spark master of the returned URL.
MASTER = "local[2]"


def write_parquet(tables: Mapping[str, pa.Table], directory: str | os.PathLike[str]) -> str:
    """Write ``<directory>/<table>.parquet`` for each table; return the absolute directory."""
    root = os.path.abspath(os.fspath(directory))
    os.makedirs(root, exist_ok=True)
    for name, table in tables.items():
        if not name or os.sep in name or name.startswith("."):
            raise ValueError(f"table name {name!r} cannot be a file name")
        pq.write_table(table, os.path.join(root, f"{name}.parquet"))
    return root


def load(tables: Mapping[str, pa.Table], directory: str | os.PathLike[str]) -> str:
    """Write the tables as Parquet files in ``directory`` and return the Spark source URL.

    >>> import tempfile
    >>> load({"deals": pa.table({"deal_id": [1]})}, tempfile.mkdtemp()).startswith(
    ...     "spark://local[2]?path=/")
    True
    """
    root = write_parquet(tables, directory)
    return f"spark://{MASTER}?path={quote(root, safe='/')}"
