"""The memory an embedded DuckDB may use: its own ``memory_limit``, set on every connection.

DuckDB's default is 80 % of the machine's memory, which on a shared machine
lets one query starve everything else. kpispec sets half of physical memory
unless told otherwise, by the source URL (``duckdb:///crm.duckdb?memory_limit=2GB``)
or the environment (``KPISPEC_DUCKDB_MEMORY_LIMIT=2GB``; the URL wins). The limit
bounds what DuckDB's buffer manager holds — hash tables, sorts, aggregates — and
DuckDB spills or fails with "Out of Memory Error" past it; the text a single
function call builds is bounded before the query runs instead
(:mod:`kpispec.spec.bounds`).
"""

from __future__ import annotations

import os
import re

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceURL

__all__ = ["ENVIRONMENT", "config", "memory_limit"]

#: The environment variable that sets the limit when the URL does not.
ENVIRONMENT = "KPISPEC_DUCKDB_MEMORY_LIMIT"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_limit(url: SourceURL) -> str:
    """The ``memory_limit`` for ``url``'s connection: the URL's, the environment's, or half
    of physical memory.

    >>> from kpispec.extensions import SourceURL
    >>> memory_limit(SourceURL(raw="duckdb://", scheme="duckdb", query={"memory_limit": "2GB"}))
    '2GB'

    Raises:
        ExecutionError: the value is not a size such as ``512MB`` or ``2GB``.
    """
    value = url.query.get("memory_limit")
    where = f"{url}: ?memory_limit="
    if value is None:
        value = os.environ.get(ENVIRONMENT) or None
        where = f"{ENVIRONMENT}="
    if value is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not a POSIX system: DuckDB's default
            return ""
        return f"{max(total // 2 // 2**20, 256)}MiB"
    if not _SIZE.match(value):
        raise ExecutionError(f"{where}{value!r} is not a size; write e.g. 512MB or 2GB")
    return str(value).strip()


def config(url: SourceURL) -> dict[str, str | bool | int | float | list[str]]:
    """The configuration every kpispec DuckDB connection opens with."""
    limit = memory_limit(url)
    return {"memory_limit": limit} if limit else {}
