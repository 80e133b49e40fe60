"""The Python API: load a project, compile queries, run them.

>>> import kpispec
>>> project = kpispec.load_project("examples/")             # doctest: +SKIP
>>> print(project.compile(["close_rate"], dialect="snowflake").sql)  # doctest: +SKIP
>>> table = project.run(["close_rate"], source="duckdb:///crm.duckdb")  # doctest: +SKIP

This module holds the entry points only; the work is done, one concern each, by
:mod:`kpispec._settings` (kpispec.yaml), :mod:`kpispec._loading` (spec files, packs,
templating, the cache), :mod:`kpispec._query_options` (query options into a
:class:`~kpispec.compile.Query`), :mod:`kpispec._execution` (running on a source) and
:mod:`kpispec._source_url` (``--source`` URLs); :mod:`kpispec._metric_list` and
:mod:`kpispec._dimensions` describe the metrics. The ``kpispec`` command calls these
same methods.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpispec import _dimensions, _execution, _loading, _metric_list, _query_options
from kpispec._settings import spec_schema
from kpispec._source_url import parse_source_url
from kpispec.spec.model import Metric, Model, Settings

__all__ = ["Project", "load_project", "parse_source_url", "published_schema"]


def published_schema() -> dict[str, Any]:
    """The JSON Schema of spec files, with every registered metric type merged in."""
    import copy

    from kpispec.plugins import get_registry

    return copy.deepcopy(spec_schema(get_registry()))  # the loader's own copy stays untouched


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: settings, models and metrics (packs included)."""

    root: Path
    settings: Settings
    models: Mapping[str, Model]
    metrics: Mapping[str, Metric]
    files: tuple[str, ...] = ()
    overrides: Mapping[str, Sequence[str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    # The methods are the functions of the modules named, each taking the project first.
    query = _query_options.build_query
    compile = _query_options.compile_metrics
    execute = _execution.execute
    check_source = _execution.check_source
    run = _execution.run
    list_metrics = _metric_list.list_metrics
    dimensions = _dimensions.dimensions_of


def load_project(path: str | os.PathLike[str] = ".", *, vars: Mapping[str, Any] | None = None,
                 packs: bool = True, cache: bool = False) -> Project:
    """Load, template, validate and build a project directory (or a single spec file).

    Args:
        path: the project directory (with an optional kpispec.yaml) or one spec file.
        vars: values for ``{{ var('name') }}``, overriding kpispec.yaml's ``vars``.
        packs: False leaves every installed metric pack out, whatever kpispec.yaml says.
        cache: reuse the project built by an earlier load of the very same files, code
            and variables (see :mod:`kpispec._cache`; the ``kpispec`` command does).

    Raises:
        SpecErrors: every problem found, each with file:line:col.
    """
    return _loading.load(path, vars=vars, packs=packs, cache=cache, project_type=Project)
