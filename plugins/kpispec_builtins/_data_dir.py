"""A directory of data files as tables, shared by the sources that read one (DuckDB's
``?path=``, Spark's ``?path=``, DataFusion's directory).

Every ``*.parquet`` and ``*.csv`` file, and every sub-directory holding Parquet
files (a partitioned dataset), is one table named after the file's stem or the
sub-directory; hidden entries (a leading dot) are skipped.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from kpispec.errors import ExecutionError

__all__ = ["DataFile", "data_files"]


class DataFile(NamedTuple):
    """One table of a data directory."""

    #: The table's name: the file's stem, or the sub-directory's name.
    name: str
    #: The file or sub-directory, absolute.
    path: str
    #: ``parquet`` or ``csv``.
    kind: str
    #: Whether ``path`` is a directory of Parquet files.
    is_dir: bool
    #: The entry's own name in the directory (``deals.parquet``).
    entry: str


def data_files(directory: str, *, label: str, where: str, clash: str, noun: str,
               fold_case: bool) -> tuple[str, list[DataFile]]:
    """The directory's absolute path, and its tables in name order.

    Args:
        directory: the directory as the URL gives it (``~`` expanded, relative to the
            working directory).
        label: how messages name the source.
        where: how messages name the directory ("?path= directory", "directory").
        clash: how the message of two entries becoming one table starts.
        noun: what a file becomes ("view", "table"), in that message.
        fold_case: whether the engine's names are case-insensitive (two files whose
            stems differ only in case would then be one table).

    Raises:
        ExecutionError: the directory does not exist or is a file, or two entries would
            become the same table.
    """
    root = os.path.abspath(os.path.expanduser(directory))
    if not os.path.isdir(root):
        problem = "is a file, not a directory" if os.path.exists(root) else "does not exist"
        raise ExecutionError(f"{where} {root!r} of {label} {problem}")
    seen: dict[str, str] = {}
    found: list[DataFile] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        kind = _kind(entry)
        if kind is None:
            continue
        is_dir = not entry.is_file()
        name = entry.name if is_dir else os.path.splitext(entry.name)[0]
        key = name.lower() if fold_case else name
        if key in seen:
            raise ExecutionError(f"{clash}: {seen[key]!r} and {entry.name!r} would both become "
                                 f"{noun} {name!r}; rename or move one of them")
        seen[key] = entry.name
        found.append(DataFile(name, entry.path, kind, is_dir, entry.name))
    return root, found


def _kind(entry: os.DirEntry[str]) -> str | None:
    """``parquet`` or ``csv`` for a data file or Parquet directory, None for anything else."""
    suffix = os.path.splitext(entry.name)[1].lower()
    if entry.is_file():
        return {".parquet": "parquet", ".csv": "csv"}.get(suffix)
    if entry.is_dir() and any(name.lower().endswith(".parquet")
                              for _, _, files in os.walk(entry.path) for name in files):
        return "parquet"
    return None
