"""Run the ``kpispec`` command with fault plugins registered, as a subprocess of the tests.

    python tests/faults/run_kpispec.py ARGS...          # one command, its exit code
    python tests/faults/run_kpispec.py --each JSON      # several, a JSON report on stdout

``KPISPEC_FAULTS`` names the fault plugins to register (see fault_plugins.py).
``KPISPEC_FAULT_ANNOUNCE=PATH`` creates the file PATH when the query is about to
be sent to the source (so a test knows when to press Ctrl-C).
``KPISPEC_FAULT_FSIZE=N`` limits every file this process writes to N bytes
(``RLIMIT_FSIZE``; SIGXFSZ ignored, so a write past it fails with EFBIG, as on a
full disk). ``--each`` runs a JSON list of argument lists in this one process and
prints, per command, its exit code and what it wrote to standard error.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys


def _setup() -> None:
    limit = os.environ.get("KPISPEC_FAULT_FSIZE")
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    import fault_plugins
    from kpispec import plugins

    announce = os.environ.get("KPISPEC_FAULT_ANNOUNCE")
    if announce:
        _announce_querying(announce)

    for name, plugin in fault_plugins.from_environment():
        plugins.register_plugin(plugin, name)


def _announce_querying(path: str) -> None:
    from kpispec.project import Project

    execute = Project.execute

    def announcing(self: Project, *args: object, on_step: object = None, **kwargs: object) -> object:
        def step(name: str, detail: str = "") -> None:
            if callable(on_step):
                on_step(name, detail)
            if name == "querying":
                with open(path, "w", encoding="utf-8") as marker:
                    marker.write(detail)
        return execute(self, *args, on_step=step, **kwargs)  # type: ignore[arg-type]

    Project.execute = announcing  # type: ignore[method-assign]


def _run(args: list[str]) -> int:
    from kpispec.cli import main

    try:
        main.main(args=args, prog_name="kpispec")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def main() -> int:
    _setup()
    args = sys.argv[1:]
    if args[:1] != ["--each"]:
        return _run(args)
    report = []
    for command in json.loads(args[1]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = _run(command)
        report.append({"args": command, "code": code, "stderr": err.getvalue()})
    sys.stdout.write(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
