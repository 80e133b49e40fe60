"""Text targets shared by the file sinks: atomic files and buffered standard output.

A file target is written to a temporary file next to it (``.<name>.*.tmp``),
flushed and fsynced, then renamed over the target with :func:`os.replace` on
commit. Discarding (abort, or any failure) deletes the temporary file, so an
existing target is never left half-written; a temporary file still there when
the process exits (a second Ctrl-C during the clean-up, say) is deleted then.
Standard output (target ``-``) is buffered and printed on commit, so an aborted
run prints nothing. A target that is not a regular file — a pipe, a terminal,
``/dev/null``, ``/dev/stdout`` — is written through, never replaced
(:mod:`kpispec_builtins._special_files`); a symlink to a file keeps being a
symlink: the file it leads to is replaced.
"""

from __future__ import annotations

import atexit
import io
import os
import stat
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

from kpispec.errors import ExecutionError, InternalError

from kpispec_builtins._special_files import PassThroughFile, Target, locate_target
from kpispec_builtins._special_files import reason as _reason

if TYPE_CHECKING:
    import pyarrow as pa
    from kpispec.extensions import SinkContext

__all__ = [
    "STDOUT",
    "AtomicFile",
    "FileSinkWriter",
    "StdoutBuffer",
    "TextSinkWriter",
    "TextTarget",
    "open_binary_target",
    "open_text_target",
    "strip_scheme",
]

#: The target that means standard output.
STDOUT = "-"
#: Temporary files neither committed nor discarded yet (deleted at exit if still there).
_pending: set[str] = set()
_pending_lock = threading.Lock()


@atexit.register
def _remove_pending() -> None:
    with _pending_lock:
        paths = list(_pending)
        _pending.clear()
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


def strip_scheme(target: str, scheme: str) -> str:
    """Remove a leading ``scheme:`` or ``scheme://`` from a sink target.

    >>> strip_scheme("csv://out/kpis.csv", "csv"), strip_scheme("CSV:-", "csv")
    ('out/kpis.csv', '-')
    >>> strip_scheme("csv:///tmp/kpis.csv", "csv"), strip_scheme("kpis.csv", "csv")
    ('/tmp/kpis.csv', 'kpis.csv')
    """
    for prefix in (f"{scheme}://", f"{scheme}:"):
        if target[: len(prefix)].lower() == prefix.lower():
            return target[len(prefix):]
    return target


class AtomicFile:
    """A text file written under a temporary name and renamed over ``path`` on commit.

    Args:
        path: the target file; its directory must exist.
        kind: what is written, for error messages (``"CSV"``, ``"JSON"``).

    Raises:
        ExecutionError: the directory does not exist, the target is a
            directory, or the temporary file cannot be created.
    """

    def __init__(self, path: str, kind: str = "output", *, binary: bool = False,
                 real: str | None = None) -> None:
        self.path = os.path.expanduser(path)
        self.kind = kind
        #: The file replaced on commit: ``path`` with its symlinks resolved (they stay links).
        self.real = real if real is not None else os.path.realpath(self.path)
        directory = os.path.dirname(self.real)
        if not self.path:
            raise ExecutionError(f"no file name given for the {kind} output; "
                                 f"write e.g. out.{kind.lower()}, or - for standard output")
        if self.path.endswith(("/", os.sep)) or os.path.isdir(self.path):
            raise ExecutionError(f"cannot write {kind} to {path!r}: it is a directory; "
                                 "give a file name")
        if not os.path.isdir(directory):
            raise ExecutionError(f"cannot write {kind} to {path!r}: directory {directory!r} "
                                 "does not exist; create it first")
        try:
            # Kept open across write() calls; commit() or discard() closes it.
            options: dict[str, Any] = {"mode": "wb"} if binary else {
                "mode": "w", "encoding": "utf-8", "newline": ""}
            self._file: IO[Any] | None = tempfile.NamedTemporaryFile(  # noqa: SIM115
                delete=False, dir=directory, prefix=f".{os.path.basename(self.real)}.",
                suffix=".tmp", **options)
        except OSError as exc:
            raise ExecutionError(f"cannot write {kind} to {path!r}: {_reason(exc)}") from None
        self.temp_path = self._file.name
        with _pending_lock:
            _pending.add(self.temp_path)

    @property
    def stream(self) -> TextIO:
        """The open temporary file, to write text into."""
        if self._file is None:
            raise ExecutionError(f"{self.kind} output {self.path!r} is already closed")
        return self._file  # type: ignore[return-value]

    @property
    def binary_stream(self) -> BinaryIO:
        """The open temporary file of a ``binary=True`` target, to write bytes into."""
        if self._file is None:
            raise ExecutionError(f"{self.kind} output {self.path!r} is already closed")
        return self._file  # type: ignore[return-value]

    def commit(self) -> None:
        """Flush, fsync and rename the temporary file over the target.

        Raises:
            ExecutionError: any step failed; the temporary file is then deleted.
        """
        file = self._file
        if file is None:
            return
        try:
            file.flush()
            os.fsync(file.fileno())
            os.chmod(self.temp_path, _target_mode(self.real))
            file.close()
            self._file = None
            os.replace(self.temp_path, self.real)
            with _pending_lock:
                _pending.discard(self.temp_path)
        except OSError as exc:
            self.discard()
            raise ExecutionError(f"cannot write {self.kind} to {self.path!r}: {_reason(exc)}"
                                 ) from None
        _fsync_directory(os.path.dirname(self.real))

    def discard(self) -> None:
        """Close and delete the temporary file; the target is untouched. Safe to repeat."""
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
        with _pending_lock:
            _pending.discard(self.temp_path)

    def fail(self, exc: OSError) -> ExecutionError:
        """Discard the temporary file and describe ``exc`` as a write failure."""
        self.discard()
        return ExecutionError(f"cannot write {self.kind} to {self.path!r}: {_reason(exc)}")


class StdoutBuffer:
    """Text collected in memory and written to ``stdout`` (default ``sys.stdout``) on commit."""

    path = STDOUT

    def __init__(self, stdout: TextIO | None = None, kind: str = "output") -> None:
        self.kind = kind
        self._stdout = stdout
        self._buffer: io.StringIO | None = io.StringIO()

    @property
    def stream(self) -> TextIO:
        """The in-memory buffer, to write text into."""
        if self._buffer is None:
            raise ExecutionError(f"{self.kind} output to standard output is already closed")
        return self._buffer

    def commit(self) -> None:
        """Print the buffered text and flush standard output."""
        buffer, self._buffer = self._buffer, None
        if buffer is None:
            return
        out = self._stdout if self._stdout is not None else sys.stdout
        try:
            out.write(buffer.getvalue())
            out.flush()
        except OSError as exc:
            raise ExecutionError(f"cannot write {self.kind} to standard output: {_reason(exc)}"
                                 ) from None

    def discard(self) -> None:
        """Drop the buffered text."""
        self._buffer = None

    def fail(self, exc: OSError) -> ExecutionError:
        """Drop the buffer and describe ``exc`` as a write failure."""
        self.discard()
        return ExecutionError(f"cannot write {self.kind} to standard output: {_reason(exc)}")


TextTarget = AtomicFile | StdoutBuffer | PassThroughFile


def open_text_target(target: str, scheme: str, *, stdout: TextIO | None = None,
                     kind: str = "output") -> TextTarget:
    """Open a sink target: ``-`` (after stripping ``scheme:``) is standard output, else a file.

    ``/dev/stdout`` is standard output too; a pipe or a device is written through.

    Raises:
        ExecutionError: the file's directory does not exist or is not writable, or
            the target is a special file kpispec does not write to (a block device).
    """
    path = strip_scheme(target, scheme)
    if path == STDOUT:
        return StdoutBuffer(stdout, kind)
    where = _locate(path, kind)
    if where.kind == "descriptor" and where.fd == 1:
        return StdoutBuffer(stdout, kind)
    if where.kind != "regular":
        return PassThroughFile(path, where, kind, binary=False)
    return AtomicFile(path, kind, real=where.path)


def open_binary_target(target: str, scheme: str, *, kind: str,
                       example: str) -> AtomicFile | PassThroughFile:
    """Open a binary file target (after stripping ``scheme:``); ``-`` is refused.

    A pipe, a device or ``/dev/stdout`` named explicitly is written through.

    Raises:
        ExecutionError: the target is ``-``, a special file kpispec does not write
            to, or the file's directory does not exist or is not writable.
    """
    path = strip_scheme(target, scheme)
    if path == STDOUT:
        raise ExecutionError(f"{kind} output cannot go to standard output: give a file name, "
                             f"e.g. --sink {example}")
    where = _locate(path, kind)
    if where.kind != "regular":
        return PassThroughFile(path, where, kind, binary=True)
    return AtomicFile(path, kind, binary=True, real=where.path)


def _locate(path: str, kind: str) -> Target:
    return locate_target(os.path.expanduser(path), f"{kind} to {path!r}")


class TextSinkWriter(ABC):
    """Base of the file sinks' writers: a target file plus the write/close/abort protocol.

    Subclasses set ``kind`` and ``scheme`` and override :meth:`begin`,
    :meth:`write_batch` and :meth:`end`, which write text to ``self.out.stream``
    (or, with ``binary = True``, bytes to ``self.out.binary_stream``: a binary
    format refuses standard output). An ``OSError`` in any of them becomes an
    :class:`ExecutionError` naming the target; any exception discards the output.
    """

    kind = "output"
    scheme = ""
    #: Binary formats (Parquet, xlsx) write bytes to a file and refuse standard output.
    binary = False
    #: The file name an error message suggests (``out.parquet``).
    example = ""

    def __init__(self, target: str, schema: pa.Schema, context: SinkContext) -> None:
        self.schema = schema
        self.columns: list[str] = list(schema.names)
        self.context = context
        if self.binary:
            self.out: TextTarget = open_binary_target(
                target, self.scheme, kind=self.kind,
                example=self.example or f"out.{self.scheme}")
        else:
            self.out = open_text_target(target, self.scheme, stdout=context.stdout,
                                        kind=self.kind)
        self._guard(self.begin)

    def begin(self) -> None:  # noqa: B027 - optional: most formats write nothing first
        """Write what comes before the first row (a header, an opening bracket)."""

    @abstractmethod
    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Write one batch's rows; its columns are :attr:`columns`, in that order."""

    def end(self) -> None:  # noqa: B027 - optional: most formats write nothing last
        """Write what comes after the last row."""

    def write(self, batch: pa.RecordBatch) -> None:
        """Write one batch of result rows."""
        if list(batch.schema.names) != self.columns:
            self.out.discard()
            raise InternalError(
                f"{self.kind} sink for {self.out.path!r} got a batch with columns "
                f"{list(batch.schema.names)}, expected {self.columns}")
        self._guard(lambda: self.write_batch(batch))

    def close(self) -> None:
        """Finish the output and make it visible (rename the file / print it)."""
        self._guard(self.end)
        self.out.commit()

    def abort(self) -> None:
        """Discard the output; an existing target file is left untouched."""
        self.out.discard()

    def _guard(self, step: Callable[[], None]) -> None:
        try:
            step()
        except OSError as exc:
            raise self.out.fail(exc) from None
        except BaseException:
            self.out.discard()
            raise


#: The base of every file sink's writer, text or binary.
FileSinkWriter = TextSinkWriter


def _target_mode(path: str) -> int:
    """The mode the committed file gets: the existing target's, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
