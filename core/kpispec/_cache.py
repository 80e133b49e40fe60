"""The project cache: a validated project kept between runs of the ``kpispec`` command.

Loading a project reads, templates, parses and checks every spec file; most runs
load the same files again. The cache keeps the built project (models and
metrics, with their parsed SQL) in the user's cache directory, under a key made
of everything the result depends on:

- the bytes of every spec file read (the project's and the installed packs'),
  and of ``kpispec.yaml``; new and deleted files change the file list;
- the ``--var`` values and the project path;
- kpispec's own code and every loaded plugin's code (versions, and the size and
  modification time of their Python files, so an editable install counts too);
- the environment variables ``env_var()`` read while templating (a hash of each
  value is kept and checked on use, never the value);
  a file that calls any other plugin-provided template function is not cached.

A project that holds a secret is never cached, since the pickle would keep it in
plain text: one whose templates read a variable with a credential's name
(``MYSQL_PWD``, ``DATABASE_URL``… — see :mod:`kpispec._env_policy`), or whose
``source:`` in kpispec.yaml carries a password or a credential parameter.

A cache file is only ever read from a directory the current user owns and
others cannot write to (pickles run code when loaded): ``$KPISPEC_CACHE_DIR``,
else ``$XDG_CACHE_HOME/kpispec``, else ``~/.cache/kpispec``. Anything wrong with
the cache (unreadable, corrupt, from another version) is a miss, never an
error. ``KPISPEC_NO_CACHE=1`` or ``kpispec --no-cache`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
import types
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "enabled", "fingerprint", "holds_secret", "read", "write"]

#: Bumped when what is pickled changes shape.
FORMAT = 1
#: Entries kept; the least recently used beyond this are removed.
MAX_ENTRIES = 64


def enabled() -> bool:
    """False when ``KPISPEC_NO_CACHE`` is set to anything but ``0`` or empty."""
    return os.environ.get("KPISPEC_NO_CACHE", "") in ("", "0")


def cache_dir() -> Path:
    explicit = os.environ.get("KPISPEC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kpispec"


def _private(directory: Path) -> bool:
    """The directory is ours and nobody else can write to it."""
    try:
        info = directory.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _code_files(directory: Path, recursive: bool) -> Iterable[Path]:
    try:
        entries = sorted(directory.rglob("*.py") if recursive else directory.glob("*.py"))
    except OSError:
        return []
    return entries


_CODE: dict[tuple[str, ...], str] = {}


def _code_fingerprint(plugins: Sequence[tuple[str, Any]]) -> str | None:
    """Versions and file stats of kpispec's code and of every loaded plugin module.

    None when a plugin is not a module (an object registered in-process, say by a
    test or a notebook): nothing on disk tells when its code changes.
    """
    if not all(isinstance(module, types.ModuleType) for _, module in plugins):
        return None
    names = tuple(sorted(name for name, _ in plugins))
    known = _CODE.get(names)
    if known is not None:
        return known
    digest = hashlib.sha256()
    roots: list[tuple[Path, bool]] = [(Path(__file__).parent, True)]  # kpispec's own code
    for name, module in sorted(plugins, key=lambda p: p[0]):
        digest.update(f"plugin {name} {getattr(module, '__name__', type(module).__name__)}\n".encode())
        file = getattr(module, "__file__", None)
        if file:
            roots.append((Path(file).parent, False))
    for root, recursive in dict.fromkeys(roots):
        for file in _code_files(root, recursive):
            try:
                info = file.stat()
            except OSError:
                continue
            digest.update(f"{file} {info.st_size} {info.st_mtime_ns}\n".encode())
    digest.update(f"python {sys.version} format {FORMAT}\n".encode())
    _CODE[names] = result = digest.hexdigest()
    return result


def fingerprint(root: Path, files: Iterable[tuple[Path, str]], variables: Mapping[str, Any],
                packs: bool, plugins: Sequence[tuple[str, Any]],
                versions: Mapping[str, str]) -> str | None:
    """The cache key of a project load, or None when a file cannot be read."""
    code = _code_fingerprint(plugins)
    if code is None:
        return None
    digest = hashlib.sha256()
    digest.update(f"root {root.resolve()} packs {packs} vars {sorted(variables.items())!r}\n".encode())
    digest.update(f"code {code} {sorted(versions.items())!r}\n".encode())
    for path, display in files:
        try:
            content = path.read_bytes()
        except OSError:
            return None
        digest.update(f"file {display} {len(content)}\n".encode())
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def read(key: str) -> Any | None:
    """The cached project of ``key`` (None on a miss), with its recorded environment checked."""
    directory = cache_dir()
    if not _private(directory):
        return None
    entry = directory / f"project-{key}.pickle"
    try:
        with open(entry, "rb") as fh:
            if not _private_file(fh.fileno()):
                return None
            stored = pickle.load(fh)
    except Exception:  # missing, truncated, from another version: a miss
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return None
    for name, digest in stored.get("environment", ()):
        if _digest(os.environ.get(name)) != digest:
            return None
    try:
        os.utime(entry)  # recently used
    except OSError:
        pass
    return stored.get("project")


def _digest(value: str | None) -> str | None:
    """What the cache keeps of an environment variable's value: a hash, never the value."""
    return None if value is None else hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _private_file(fd: int) -> bool:
    info = os.fstat(fd)
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def write(key: str, project: Any, environment: Iterable[tuple[str, str | None]]) -> None:
    """Store ``project`` under ``key``; any failure leaves the cache as it was."""
    directory = cache_dir()
    try:
        environment = list(environment)
        if holds_secret(project, environment):
            return
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(directory):
            return
        recorded = sorted({(name, _digest(value)) for name, value in environment}, key=repr)
        data = pickle.dumps({"format": FORMAT, "project": project, "environment": recorded},
                            protocol=pickle.HIGHEST_PROTOCOL)
        fd, temp = tempfile.mkstemp(prefix=".project-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temp, directory / f"project-{key}.pickle")
        except BaseException:
            os.unlink(temp)
            raise
        _prune(directory)
    except Exception:  # a full disk or a read-only home: run without the cache
        return


def holds_secret(project: Any, environment: Iterable[tuple[str, str | None]]) -> bool:
    """Whether a built project would carry a secret into the cache file.

    >>> from types import SimpleNamespace as S
    >>> holds_secret(S(settings=S(source="postgresql://me:pw@db/crm")), [])
    True
    >>> holds_secret(S(settings=S(source="duckdb:///crm.duckdb")), [("MYSQL_PWD", "x")])
    True
    >>> holds_secret(S(settings=S(source="duckdb:///crm.duckdb")), [("KPISPEC_SCHEMA", "crm")])
    False
    """
    from urllib.parse import parse_qsl, urlsplit

    from kpispec._env_policy import looks_secret
    from kpispec.errors import is_credential_name

    if any(looks_secret(name) and value for name, value in environment):
        return True
    source = getattr(getattr(project, "settings", None), "source", None)
    if not isinstance(source, str) or "://" not in source:
        return False
    try:
        parts = urlsplit(source)
        password = parts.password
    except ValueError:
        return True  # cannot tell: do not keep it
    return bool(password) or any(is_credential_name(name) and value
                                 for name, value in parse_qsl(parts.query))


def _prune(directory: Path) -> None:
    entries = list(directory.glob("project-*.pickle"))
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-MAX_ENTRIES]:
        try:
            old.unlink()
        except OSError:
            pass
