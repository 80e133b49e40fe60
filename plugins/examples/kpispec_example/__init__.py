"""kpispec-example-plugin: one of everything a kpispec plugin can contribute.

* the ``weighted_pipeline`` metric type (:mod:`kpispec_example.weighted`);
* the ``csvdir://`` source, a directory of CSV files (:mod:`kpispec_example.csvdir`);
* the ``markdown`` sink, ``--sink report.md`` or ``--sink md:-`` (:mod:`kpispec_example.markdown`);
* the ``example_pipeline`` metric pack over the CRM reference schema (``specs/``);
* the ``metric_description`` lint rule (:mod:`kpispec_example.lint`).

kpispec finds this module through the ``kpispec`` entry-point group (see
``pyproject.toml``) and calls the functions below, marked ``@kpispec.hookimpl``.
Each hook only hands kpispec what the sub-modules define.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kpispec

from kpispec_example import csvdir, lint, markdown, weighted

__all__ = [
    "PACK",
    "register_lint_rules",
    "register_metric_types",
    "register_sinks",
    "register_sources",
    "register_spec_paths",
]

__version__ = "1.0.0"

#: The metric pack's name: what `packs: [example_pipeline]` in kpispec.yaml includes.
PACK = "example_pipeline"


@kpispec.hookimpl
def register_metric_types(register: Callable[..., None]) -> None:
    register(weighted.METRIC_TYPE)


@kpispec.hookimpl
def register_sources(register: Callable[..., None]) -> None:
    register(csvdir.SOURCE)


@kpispec.hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    register(markdown.SINK)


@kpispec.hookimpl
def register_spec_paths(register: Callable[..., None]) -> None:
    register(Path(__file__).parent / "specs", name=PACK)


@kpispec.hookimpl
def register_lint_rules(register: Callable[..., None]) -> None:
    register(lint.RULE)
