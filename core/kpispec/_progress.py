"""A progress display for ``kpispec run`` on standard error: compiling, the query, rows written.

Shown only when standard error is a terminal (or when asked for), and cleared
when the run ends, so piped output and logs never see it. rich is imported only
when the display is on.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RunProgress", "wants_progress"]


def wants_progress(setting: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to show progress: ``setting`` when given, else whether ``stream`` is a terminal."""
    if setting is not None:
        return setting
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class RunProgress:
    """The three steps of a run, as rich progress rows; every method is a no-op when disabled.

    Args:
        enabled: show anything at all.
        console: where to draw (default: a rich console on standard error).
    """

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._rows = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console if console is not None else Console(stderr=True),
            transient=True, redirect_stdout=False, redirect_stderr=True,
        )
        self._progress.start()

    def compiling(self, metrics: int) -> None:
        """Compiling ``metrics`` metrics into one query has started."""
        self._add("compile", f"compiling {metrics} metric{'s' if metrics != 1 else ''}",
                  total=metrics, detail=f"0/{metrics}")

    def compiled(self) -> None:
        """The query is compiled."""
        task = self._tasks.get("compile")
        if task is not None:
            total = self._progress.tasks[task].total or 1
            self._progress.update(task, completed=total, detail=f"{int(total)}/{int(total)}",
                                  description=self._progress.tasks[task].description.replace(
                                      "compiling", "compiled"))

    def querying(self, source: str) -> None:
        """The query was sent to ``source``; it runs until its first rows arrive."""
        self._add("query", f"query running on {source}", total=None, detail="")

    def query_done(self) -> None:
        """The first rows arrived (or the query ended without rows)."""
        task = self._tasks.get("query")
        if task is not None and not self._progress.tasks[task].finished:
            self._progress.update(task, total=1, completed=1, detail="done",
                                  description=self._progress.tasks[task].description.replace(
                                      "query running", "query ran"))
        if "rows" not in self._tasks:
            self._add("rows", "rows written", total=None, detail="0")

    def rows(self, count: int) -> None:
        """``count`` more rows went to every sink."""
        if not self.enabled:
            return
        if "rows" not in self._tasks:
            self.query_done()
        self._rows += count
        self._progress.update(self._tasks["rows"], advance=count, detail=f"{self._rows:,}")

    def stop(self) -> None:
        """Clear the display (before sinks print their output). Safe to repeat."""
        progress, self._progress = self._progress, None
        self.enabled = False
        if progress is not None:
            progress.stop()

    def _add(self, key: str, description: str, *, total: float | None, detail: str) -> None:
        if self.enabled:
            self._tasks[key] = self._progress.add_task(description, total=total, detail=detail)
