"""The ``metric_description`` lint rule: every metric of the project has a description.

Metrics from installed packs are not checked: their authors document them, and
the project's owner could not add a line to them anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kpispec

__all__ = ["RULE", "every_metric_has_a_description"]


def every_metric_has_a_description(project: Any) -> Iterator[kpispec.SpecError]:
    """Yield one problem per project metric without a ``description``."""
    for name in sorted(project.metrics):
        metric = project.metrics[name]
        if metric.origin == "project" and not (metric.description or "").strip():
            yield kpispec.SpecError(
                f"metric {name!r} has no description", metric.location,
                "Add a 'description:' line saying what it counts (lint rule metric_description "
                "of kpispec-example-plugin)")


RULE = kpispec.LintRule(
    name="metric_description",
    check=every_metric_has_a_description,
    description="Every metric of the project has a description.",
)
