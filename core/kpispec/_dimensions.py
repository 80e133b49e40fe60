"""What each metric can be grouped by: the dimensions every model it reads can reach.

A metric reads one or more models (a ratio's numerator and denominator, a derived
metric's inputs). ``--by DIM`` works when every one of those models reaches ``DIM``
— as its own dimension or through its many-to-one joins — so a metric's dimensions
are the names that resolve from all of them, resolved exactly as the compiler
resolves them (:class:`kpispec.spec.resolve.Resolver`). A joined model's dimension
that the plain name does not reach — the name is ambiguous, another model's
dimension of that name wins, or not every model reaches it plainly — is listed in
its qualified form (``customers.region``) when that form resolves.

>>> import kpispec
>>> from kpispec._demo_command import demo_project_path
>>> project = kpispec.load_project(demo_project_path(), packs=False)
>>> [d.name for d in metric_dimensions(project, "close_rate")]
['source', 'status']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DimensionInfo", "dimensions_of", "metric_dimensions", "metric_models",
           "print_dimensions", "unknown_metric"]


@dataclass(frozen=True)
class DimensionInfo:
    """One dimension a metric can be grouped by, as ``--by`` takes it."""

    #: The name to give ``--by``: plain, or ``model.dim`` where the plain name does not do.
    name: str
    #: The models it comes from (one per model the metric reads, deduplicated).
    models: tuple[str, ...]
    #: ``categorical`` or ``time``.
    type: str = "categorical"
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def label(self, lang: str = "en") -> str:
        """The label in ``lang``, else English, else empty."""
        return self.labels.get(lang) or self.labels.get("en") or ""

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The dimension as JSON: name, models, type, label, description."""
        return {"name": self.name, "models": list(self.models), "type": self.type,
                "label": self.label(lang), "description": self.description}


def metric_models(project: Any, name: str, seen: set[str] | None = None) -> list[str]:
    """The models metric ``name`` reads, through the metrics it is built from, sorted."""
    seen = seen if seen is not None else set()
    if name in seen:
        return []
    seen.add(name)
    metric = project.metrics[name]
    found = list(metric.models)
    for ref in metric.refs:
        if ref in project.metrics:
            found += metric_models(project, ref, seen)
    return sorted(set(found))


def unknown_metric(project: Any, name: str, what: str) -> Exception:
    """The error for a metric name the project does not define, with a did-you-mean.

    ``what`` says where the name was given (``METRIC``, ``--metric``).
    """
    from kpispec.errors import UnknownMetricError
    from kpispec.spec.schema import suggest

    return UnknownMetricError(f"{what} {name!r}: unknown metric",
                              hint=suggest(name, project.metrics) or
                              "Run 'kpispec list' to see the metrics")


def metric_dimensions(project: Any, name: str,
                      resolver: Any = None) -> list[DimensionInfo]:
    """The dimensions metric ``name`` can be grouped by, ordered by model and name.

    Raises:
        kpispec.errors.UnknownMetricError: the project has no metric ``name``.
    """
    from kpispec.spec.resolve import Resolver

    if name not in project.metrics:
        raise unknown_metric(project, name, "metric")
    models: Mapping[str, Any] = project.models
    resolver = resolver or Resolver(models)
    readers = [m for m in metric_models(project, name) if m in models]
    if not readers:
        return []
    # Candidates: every dimension any reader reaches, plain and qualified.
    owners: dict[str, list[str]] = {}
    for reader in readers:
        for other in resolver.paths(reader):
            for dim in getattr(models.get(other), "dimensions", {}):
                owners.setdefault(dim, [])
                if other not in owners[dim]:
                    owners[dim].append(other)
    order = {m: i for i, m in enumerate(readers)}
    found: list[DimensionInfo] = []
    for dim in sorted(owners):
        plain = _from_all(resolver, readers, dim)
        if plain is not None:
            found.append(_info(models, dim, dim, plain))
        for owner in sorted(owners[dim]):
            if plain is not None and owner in plain:
                continue  # the plain name is this one
            qualified = f"{owner}.{dim}"
            if _from_all(resolver, readers, qualified) is not None:
                found.append(_info(models, qualified, dim, (owner,)))
    return sorted(found, key=lambda d: (min(order.get(m, len(order)) for m in d.models),
                                        d.models, d.name))


def dimensions_of(project: Any, metrics: Sequence[str]) -> dict[str, list[DimensionInfo]]:
    """What each of ``metrics`` can be grouped by (:meth:`kpispec.Project.dimensions`).

    Raises:
        kpispec.errors.QueryError: no metric is named.
        kpispec.errors.UnknownMetricError: a metric is not in the project.
    """
    from kpispec.errors import QueryError
    from kpispec.spec.resolve import Resolver

    if not metrics:
        raise QueryError("name at least one metric: kpispec dimensions METRIC...",
                         hint="Run 'kpispec list' to see the metrics")
    for name in metrics:
        if name not in project.metrics:
            raise unknown_metric(project, name, "METRIC")
    resolver = Resolver(project.models)
    return {name: metric_dimensions(project, name, resolver) for name in dict.fromkeys(metrics)}


def print_dimensions(project: Any, metrics: Sequence[str], *, lang: str = "en",
                     as_json: bool = False) -> None:
    """``kpispec dimensions``: each metric's dimensions as a table (or JSON) on standard output.

    With several metrics, a last line names the dimensions all of them share (what
    ``--by`` takes when they run together).

    Raises:
        kpispec.errors.QueryError: no metric is named, or ``lang`` is unknown.
        kpispec.errors.UnknownMetricError: a metric is not in the project.
    """
    import json
    import sys

    import click

    from kpispec._i18n import check_lang

    found = dimensions_of(project, metrics)
    check_lang(lang, project)
    if as_json:
        click.echo(json.dumps([{"metric": name, "dimensions": [d.as_dict(lang) for d in dims]}
                               for name, dims in found.items()], indent=2, ensure_ascii=False))
        return
    import io

    from rich.console import Console
    from rich.table import Table

    labelled = any(d.label(lang) for dims in found.values() for d in dims)
    columns = ("metric", "dimension", "type", "model") + (("label",) if labelled else ())
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=column in ("metric", "dimension"), overflow="fold")
    for name, dims in found.items():
        if not dims:
            table.add_row(name, "(none: by period only)", *[""] * (len(columns) - 2))
        for d in dims:
            row = (name, d.name, d.type, ", ".join(d.models), d.label(lang))
            table.add_row(*row[:len(columns)])
    buffer = io.StringIO()
    terminal = sys.stdout.isatty()
    Console(file=buffer, soft_wrap=True, force_terminal=terminal,
            no_color=not terminal).print(table)
    click.echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))
    if len(found) > 1:
        common = [d.name for d in next(iter(found.values()))
                  if all(d.name in {o.name for o in dims} for dims in found.values())]
        click.echo(f"\ncommon to all {len(found)}: {', '.join(common)}" if common else
                   f"\nno dimension is common to all {len(found)} metrics")


def _from_all(resolver: Any, readers: Sequence[str], dim: str) -> tuple[str, ...] | None:
    """The models ``dim`` comes from when every reader reaches it, else None."""
    from kpispec.spec.resolve import ResolveError

    owners: list[str] = []
    for reader in readers:
        try:
            resolver.dimension(reader, dim)
        except ResolveError:
            return None
        owner = dim.rpartition(".")[0] or _owner(resolver, reader, dim)
        if owner not in owners:
            owners.append(owner)
    return tuple(owners)


def _owner(resolver: Any, reader: str, dim: str) -> str:
    """The model a plain dimension name resolves to from ``reader`` (its own first)."""
    if dim in resolver.models[reader].dimensions:
        return str(reader)
    return str(next(o for o in resolver.paths(reader)
                    if o in resolver.models and dim in resolver.models[o].dimensions))


def _info(models: Mapping[str, Any], name: str, dim: str, owners: tuple[str, ...]) -> DimensionInfo:
    declared = models[owners[0]].dimensions[dim]
    return DimensionInfo(name=name, models=owners, type=declared.type,
                         labels=dict(declared.labels), description=declared.description)
