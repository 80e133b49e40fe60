"""Sink targets that are not regular files: pipes, terminals, devices, open descriptors.

A file sink renames a finished temporary file over its target. That is right
for a regular file and wrong for anything else: renaming over ``/dev/full``,
``/dev/stdout`` (a symlink) or a named pipe would replace the device, the
link or the pipe with a plain file. So before a sink opens its target,
:func:`locate_target` says what the name is:

- absent, or a regular file — possibly behind symlinks, which are followed and
  kept: the file the links lead to is the one replaced (``regular``);
- an open descriptor of this process named by ``/dev/stdout``, ``/dev/stderr``,
  ``/dev/fd/N`` or ``/proc/self/fd/N`` (``descriptor``): the output is written
  to that descriptor, as the shell would;
- a named pipe (FIFO) or a character device such as a terminal, ``/dev/null``
  or ``/dev/full`` (``stream``): the output is written through, never replaced;
- anything else (a block device, a socket, a directory) is refused.

A target written through gets the whole output only on commit, from a
temporary buffer, so an aborted run writes nothing there either.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Literal, TextIO

from kpispec.errors import ExecutionError

__all__ = ["PassThroughFile", "Target", "locate_target", "reason"]

#: Names of this process's open descriptors (``/dev/stdout`` is a link to ``/proc/self/fd/1``).
_DESCRIPTOR = re.compile(r"^/(?:dev|proc/(self|\d+))/fd/(\d+)$")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


@dataclass(frozen=True)
class Target:
    """Where a sink target name leads.

    Attributes:
        kind: ``regular`` (replace ``path`` atomically), ``descriptor`` (write to
            ``fd``) or ``stream`` (open ``path`` and write through).
        path: the file to replace or open, symlinks resolved.
        fd: the descriptor, for ``descriptor``.
    """

    kind: Literal["regular", "descriptor", "stream"]
    path: str
    fd: int = -1


def locate_target(path: str, what: str) -> Target:
    """Say what a sink target name is; refuse what kpispec must not write to.

    Args:
        path: the target, ``~`` expanded.
        what: what is written and where, for messages (``"CSV to '/dev/sda'"``).

    Raises:
        ExecutionError: the target is a block device, a socket or another file
            kpispec cannot write through, or names a descriptor that is not open.
    """
    fd, real = _follow(path)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise ExecutionError(f"cannot write {what}: descriptor {fd} is not open") from None
        return Target("descriptor", path, fd)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return Target("regular", real)
    except OSError:
        return Target("regular", real)  # the temporary file's creation reports it
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):  # a directory is refused by the caller
        return Target("regular", real)
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return Target("stream", real)
    raise ExecutionError(
        f"cannot write {what}: it is {_describe(mode)}, not a file, a pipe or a terminal; "
        "kpispec never replaces it. Give a file name")


def _follow(path: str) -> tuple[int | None, str]:
    """Follow symlinks one link at a time: the descriptor a name stands for, or the real path.

    ``os.path.realpath`` alone would go past ``/proc/self/fd/1`` to whatever
    standard output is (``/dev/pts/0``, a redirected file, ``pipe:[…]``).
    """
    for _ in range(40):  # as the kernel's MAXSYMLINKS
        fd = _descriptor(path)
        if fd is not None or not os.path.islink(path):
            return fd, os.path.realpath(path)
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None, os.path.realpath(path)


def _descriptor(path: str) -> int | None:
    if path in _STANDARD:
        return _STANDARD[path]
    match = _DESCRIPTOR.match(path)
    if match is None or match.group(1) not in (None, "self", str(os.getpid())):
        return None
    return int(match.group(2))


def _describe(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


class PassThroughFile:
    """Output collected in an unnamed temporary file and written through to ``target`` on commit.

    The target (a pipe, a terminal, a device, an open descriptor) is opened
    for writing only then — never created, truncated or renamed over.
    """

    def __init__(self, shown: str, target: Target, kind: str, *, binary: bool) -> None:
        self.path = shown
        self.kind = kind
        self._target = target
        self._buffer: BinaryIO | None = tempfile.TemporaryFile()  # noqa: SIM115
        self._text: TextIO | None = None if binary else io.TextIOWrapper(
            self._buffer, encoding="utf-8", newline="", write_through=True)

    @property
    def stream(self) -> TextIO:
        """The text stream to write into (text targets)."""
        if self._text is None:
            raise ExecutionError(f"{self.kind} output {self.path!r} is already closed")
        return self._text

    @property
    def binary_stream(self) -> BinaryIO:
        """The byte stream to write into (binary targets)."""
        if self._buffer is None:
            raise ExecutionError(f"{self.kind} output {self.path!r} is already closed")
        return self._buffer

    def commit(self) -> None:
        """Write the collected output to the target.

        Raises:
            ExecutionError: opening or writing the target failed (``/dev/full``).
        """
        buffer = self._buffer
        if buffer is None:
            return
        try:
            if self._text is not None:
                self._text.flush()
            buffer.seek(0)
            if self._target.kind == "descriptor":
                if self._target.fd in (1, 2):
                    (sys.stdout if self._target.fd == 1 else sys.stderr).flush()
                out: IO[Any] = open(os.dup(self._target.fd), "wb")  # noqa: SIM115
            else:
                out = open(os.open(self._target.path,  # noqa: SIM115
                                   os.O_WRONLY | getattr(os, "O_NOCTTY", 0)), "wb")
            with out:
                shutil.copyfileobj(buffer, out)
        except OSError as exc:
            self.discard()
            raise ExecutionError(f"cannot write {self.kind} to {self.path!r}: {reason(exc)}"
                                 ) from None
        self.discard()

    def discard(self) -> None:
        """Drop the collected output; the target is untouched. Safe to repeat."""
        text, self._text = self._text, None
        buffer, self._buffer = self._buffer, None
        for stream in (text, buffer):
            if stream is not None:
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass

    def fail(self, exc: OSError) -> ExecutionError:
        """Drop the output and describe ``exc`` as a write failure."""
        self.discard()
        return ExecutionError(f"cannot write {self.kind} to {self.path!r}: {reason(exc)}")


def reason(exc: OSError) -> str:
    """The readable part of an ``OSError`` (its ``strerror``)."""
    return exc.strerror or str(exc)
