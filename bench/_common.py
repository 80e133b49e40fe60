"""Helpers shared by the bench scripts: finding the executables, a clean child environment."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def kpispec_exe() -> str:
    """The ``kpispec`` console script of this interpreter (not a pyenv/asdf shim on PATH)."""
    beside = Path(sys.executable).with_name("kpispec")
    if beside.exists():
        return str(beside)
    found = shutil.which("kpispec")
    if found is None:
        raise SystemExit("kpispec is not installed: python -m pip install -e .")
    return found


def child_env(pycache: str | None = None, pythonpath: list[str] | None = None) -> dict[str, str]:
    """The environment for measured child processes.

    Bytecode caching is on (an installed wheel ships compiled ``.pyc`` files), with the
    caches in ``pycache`` (``PYTHONPYCACHEPREFIX``) so that nothing is written into the
    source tree; ``PYTHONDONTWRITEBYTECODE`` from the caller's shell is dropped.
    ``pythonpath`` replaces ``PYTHONPATH`` (a baseline ref's package directories).
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONPYCACHEPREFIX",
                        "KPISPEC_LOAD_PLUGINS", "KPISPEC_BLOCK_PLUGINS", "KPISPEC_TRACE_PLUGINS",
                        "KPISPEC_NO_CACHE", "KPISPEC_CACHE_DIR")}
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
        env["KPISPEC_CACHE_DIR"] = pycache + "-kpispec"  # never the user's own project cache
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    return env
