"""Throwaway Python environments for pip-installing plugin packages in tests.

A :class:`PluginEnv` is a virtual environment layered on the one running the
tests: it sees every package installed here (kpispec, its drivers, pytest)
through a ``.pth`` file, and what is pip-installed into it stays in it. So a
plugin is installed exactly as a user would install it — ``pip install`` of
its directory, metadata and entry points included — without changing the
environment the rest of the suite runs in, and without any lock between
pytest-xdist workers: each test (or module) builds its own.

Installation is offline: ``--no-build-isolation --no-deps --no-index`` builds
with the setuptools and wheel of the running environment (the ``test`` extra
brings them).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

__all__ = ["PluginEnv"]

_KPISPEC_VARIABLES = ("KPISPEC_LOAD_PLUGINS", "KPISPEC_BLOCK_PLUGINS", "KPISPEC_TRACE_PLUGINS")


def _outer_site_dirs() -> list[str]:
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    paths = sysconfig.get_paths()
    dirs += [paths["purelib"], paths["platlib"]]
    return [d for d in dict.fromkeys(dirs) if Path(d).is_dir()]


class PluginEnv:
    """A virtual environment under ``root`` that also sees the running environment's packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        venv.create(self.venv, with_pip=False, symlinks=os.name != "nt")
        scripts = "Scripts" if os.name == "nt" else "bin"
        self.python = self.venv / scripts / ("python.exe" if os.name == "nt" else "python")
        purelib = self.run_python("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        lines = "; ".join(f"site.addsitedir({d!r})" for d in _outer_site_dirs())
        Path(purelib.stdout.strip(), "_kpispec_tests_outer_env.pth").write_text(
            f"import site; {lines}\n", encoding="utf-8")
        self.work = root / "work"
        self.work.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        """The environment variables for a command: kpispec's own plugin variables cleared."""
        env = {k: v for k, v in os.environ.items() if k not in _KPISPEC_VARIABLES}
        env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONUTF8="1")
        env.update(extra)
        return env

    def run_python(self, *args: str, cwd: Path | None = None, check: bool = True,
                   timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """Run this environment's Python with ``args``."""
        done = subprocess.run([str(self.python), *args], cwd=cwd or self.root, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed (exit {done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def kpispec(self, *args: str, cwd: Path | None = None,
                **env: str) -> subprocess.CompletedProcess[str]:
        """Run the ``kpispec`` command (``python -m kpispec``) of this environment."""
        return self.run_python("-m", "kpispec", *args, cwd=cwd or self.work, check=False, **env)

    def pip_install(self, source: Path) -> Path:
        """pip-install the package directory ``source`` (from a copy, so the source tree gets
        no build files); return the copy."""
        copy = self.root / f"src-{source.name}"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", ".pytest_cache"))
        self.run_python("-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                        "--no-index", str(copy))
        return copy

    def pip_uninstall(self, distribution: str) -> None:
        """pip-uninstall ``distribution`` from this environment."""
        self.run_python("-m", "pip", "uninstall", "--yes", "--quiet", distribution)

    def __repr__(self) -> str:
        return f"<PluginEnv {self.root} on {sys.version.split()[0]}>"
