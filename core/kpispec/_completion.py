"""Shell completion of the project's metric and dimension names (click ``shell_complete``).

The project is the one the command line names with ``-p`` (else the current
directory), loaded through the project cache so a completion takes a few
milliseconds once the project was used. Completion never prints: a project that
does not load completes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # completion runs only when the shell asks; the CLI's start stays lean
    import click
    from click.shell_completion import CompletionItem

__all__ = ["complete_dimensions", "complete_metrics"]


def complete_metrics(ctx: click.Context, param: click.Parameter,
                     incomplete: str) -> list[CompletionItem]:
    """Metric names starting with ``incomplete`` (those already given left out), with labels."""
    from click.shell_completion import CompletionItem

    project = _project(ctx)
    if project is None:
        return []
    given = set(ctx.params.get(param.name or "") or ())
    return [CompletionItem(name, help=project.metrics[name].label())
            for name in sorted(project.metrics)
            if name.startswith(incomplete) and name not in given]


def complete_dimensions(ctx: click.Context, param: click.Parameter,
                        incomplete: str) -> list[CompletionItem]:
    """Dimension names for ``--by``: those every metric already given can be grouped by, or,
    before any metric, every dimension of every model (plain and as ``model.dim``)."""
    from click.shell_completion import CompletionItem

    project = _project(ctx)
    if project is None:
        return []
    # While an option waits for its value, click leaves the arguments before it unparsed.
    words = [*(ctx.params.get("metrics") or ()), *ctx.args]
    metrics = [m for m in dict.fromkeys(words) if m in project.metrics]
    try:
        names = _names(project, metrics)
    except Exception:  # completion never fails loudly
        return []
    given = set(ctx.params.get(param.name or "") or ())
    return [CompletionItem(name) for name in names
            if name.startswith(incomplete) and name not in given]


def _names(project: Any, metrics: list[str]) -> list[str]:
    if not metrics:
        plain = {d for model in project.models.values() for d in model.dimensions}
        qualified = {f"{model.name}.{d}" for model in project.models.values()
                     for d in model.dimensions}
        return sorted(plain) + sorted(qualified)
    from kpispec._dimensions import metric_dimensions
    from kpispec.spec.resolve import Resolver

    resolver = Resolver(project.models)
    found = [[d.name for d in metric_dimensions(project, m, resolver)] for m in metrics]
    return [name for name in found[0] if all(name in other for other in found[1:])]


def _project(ctx: click.Context) -> Any:
    """The command line's project, or None when it does not load (nothing is printed)."""
    import contextlib
    import io

    path = ctx.params.get("path") or "."
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            from kpispec.project import load_project

            return load_project(path)
    except Exception:
        return None
