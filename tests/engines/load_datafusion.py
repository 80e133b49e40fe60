"""Load Arrow tables for DataFusion, for the cross-engine tests.

``load(tables, directory)`` writes each table as ``<directory>/<table>.parquet``
(pyarrow.parquet) and returns ``datafusion:///<directory>`` (an absolute
directory, so four slashes), where every file is a table named after it.
Timestamps are stored as naive ``timestamp[us]`` (UTC), dates as ``date32``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["load", "write_parquet"]


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
    """Write the tables as Parquet files in ``directory`` and return the DataFusion source URL.

    >>> import tempfile
    >>> load({"deals": pa.table({"deal_id": [1]})}, tempfile.mkdtemp()).startswith(
    ...     "datafusion:////")
    True
    """
    root = write_parquet(tables, directory)
    return f"datafusion:///{quote(root, safe='/')}"
