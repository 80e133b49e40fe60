"""The project's metrics, one row each: what ``kpispec list`` prints and
:meth:`kpispec.Project.list_metrics` returns.

>>> import kpispec
>>> from kpispec._demo_command import demo_project_path
>>> project = kpispec.load_project(demo_project_path(), packs=False)
>>> row = project.list_metrics(lang="pl")[0]
>>> row["name"], row["type"], row["models"], row["origin"]
('avg_deal_size', 'simple', 'deals', 'project')
"""

from __future__ import annotations

from typing import Any

__all__ = ["list_metrics"]


def list_metrics(project: Any, *, lang: str = "en", origin: str | None = None,
                 dimensions: bool = False) -> list[dict[str, Any]]:
    """The project's metrics by name: ``name``, ``type``, ``label`` (in ``lang``), ``models``
    (the models it reads, comma-separated), ``origin`` (``project`` or a pack, with what it
    overrides) and ``description``.

    Args:
        lang: the language of the labels (English where a label lacks it).
        origin: only the metrics from this origin: ``project`` or a pack's name.
        dimensions: add ``dimensions``: what each metric can be grouped by, as JSON objects
            (name, models, type, label, description).

    Raises:
        QueryError: ``lang`` is a language no label or report text has, or no metric of
            the project comes from ``origin``.
    """
    from kpispec._dimensions import metric_dimensions, metric_models
    from kpispec._i18n import check_lang

    check_lang(lang, project)
    _check_origin(project, origin)
    rows = []
    for name in sorted(project.metrics):
        m = project.metrics[name]
        if origin is not None and m.origin != origin:
            continue
        shown = m.origin
        if name in project.overrides:
            shown += f" (overrides {', '.join(project.overrides[name])})"
        rows.append({"name": name, "type": m.type, "label": m.label(lang),
                     "models": ", ".join(metric_models(project, name)), "origin": shown,
                     "description": m.description})
    if dimensions:
        for row in rows:
            row["dimensions"] = [d.as_dict(lang) for d in metric_dimensions(project, row["name"])]
    return rows


def _check_origin(project: Any, origin: str | None) -> None:
    """Refuse a ``--origin`` no metric of the project can come from."""
    known = {"project", *(m.origin for m in project.metrics.values())}
    if origin is not None and origin not in known:
        from kpispec.errors import QueryError
        from kpispec.spec.schema import suggest

        raise QueryError(f"--origin {origin!r}: no metric of this project comes from it",
                         hint=suggest(origin, known) or f"Origins here: {', '.join(sorted(known))}")
