"""Every exception kpispec raises on purpose.

::

    KpispecError                      base; the CLI prints its message and exits 1 or 2
    ├── SpecError                     the user's input is wrong (exit 1); has a location
    │   ├── SpecErrors                several SpecErrors collected by validation
    │   ├── UnknownMetricError        also a KeyError
    │   └── QueryError                a query option (--by, --grain, --where…) is wrong
    ├── PluginError                   a plugin misbehaved; names the plugin and the hook
    ├── CompileError                  a valid spec could not be turned into SQL (exit 1)
    │   └── UnsupportedDialectFeature the target dialect lacks a construct the metric needs
    ├── ExecutionError                a source or sink failed (exit 2)
    └── InternalError                 a kpispec bug; asks the user to file an issue

Messages carry the values that matter and say what to do next; none of them
carries a stack trace (the CLI shows one only with ``--debug``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CompileError",
    "ExecutionError",
    "InternalError",
    "KpispecError",
    "Location",
    "PluginError",
    "QueryError",
    "SpecError",
    "SpecErrors",
    "UnknownMetricError",
    "UnsupportedDialectFeature",
]


@dataclass(frozen=True)
class Location:
    """Where a spec node starts: file, 1-based line and column, and its JSON path."""

    file: str
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}" if self.path else where


class KpispecError(Exception):
    """Base of every error kpispec raises on purpose."""

    exit_code = 1


class SpecError(KpispecError):
    """Raised when a spec file or project setting is wrong; it knows where.

    The message reads like compiler output:
    ``specs/revenue.yaml:14:7: metrics[2].denominator: unknown model 'ordr'. Did you mean 'orders'?``
    """

    def __init__(self, message: str, location: Location | None = None, hint: str = "") -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return f"{self.location}: {text}" if self.location else text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.column, self.message)


class SpecErrors(SpecError):
    """Raised by validation with every problem it found, one per line, in file order."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors: Sequence[SpecError] = sorted(errors, key=SpecError.sort_key)
        count = len(self.errors)
        lines = [e.render() for e in self.errors]
        lines.append(f"{count} problem{'s' if count != 1 else ''} found.")
        KpispecError.__init__(self, "\n".join(lines))
        self.message = "\n".join(lines)
        self.location = None
        self.hint = ""

    def render(self) -> str:
        return self.message


class UnknownMetricError(SpecError, KeyError):
    """Raised when a query names a metric the project does not define."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.render()


class QueryError(SpecError):
    """Raised when a query option (metric list, --by, --grain, --where, --from/--to) is wrong."""


class PluginError(KpispecError):
    """Raised when a plugin fails to import, raises in a hook or registers something malformed."""

    def __init__(self, message: str, *, plugin: str, hook: str = "") -> None:
        self.plugin = plugin
        self.hook = hook
        where = f"plugin {plugin!r}" + (f" in hook {hook}" if hook else "")
        super().__init__(f"{where}: {message}")


class CompileError(KpispecError):
    """Raised when a valid spec cannot be compiled to SQL for the requested query."""


class UnsupportedDialectFeature(CompileError):
    """Raised when the target SQL dialect cannot express a construct a metric needs."""

    def __init__(self, *, metric: str, dialect: str, construct: str) -> None:
        self.metric = metric
        self.dialect = dialect
        self.construct = construct
        super().__init__(
            f"metric {metric!r} cannot be compiled for dialect {dialect!r}: {construct}. "
            "Choose another dialect or rewrite the metric without it."
        )


class ExecutionError(KpispecError):
    """Raised when a source fails to connect or execute, or a sink fails to write (exit 2)."""

    exit_code = 2


class InternalError(KpispecError):
    """Raised on a kpispec bug: something that valid input must never reach."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(
            f"internal error: {message}. This is a kpispec bug; please file an issue "
            "with the command you ran (rerun with --debug for the traceback)."
        )
