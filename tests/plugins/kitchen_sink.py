"""A test plugin implementing every hook, registered in-process by tests (no packaging)."""

from __future__ import annotations

from typing import Any, Callable

from sqlglot import exp

import kpispec
from kpispec import hookimpl


class KitchenSink:
    """Contributes one of everything; records which hooks were called."""

    def __init__(self, spec_dir: str | None = None) -> None:
        self.calls: list[str] = []
        self.spec_dir = spec_dir

    @hookimpl
    def register_metric_types(self, register: Callable[..., None]) -> None:
        self.calls.append("register_metric_types")

        def lower(spec: Any, ctx: kpispec.LowerContext) -> kpispec.Lowered:
            # share of rows matching `where`, as a percentage
            where = ctx.parse(spec["where"])
            return kpispec.Lowered(
                measures={"hits": {"model": spec["model"], "agg": "count", "filter": where},
                          "rows": {"model": spec["model"], "agg": "count"}},
                expr=exp.Div(this=exp.Mul(this=exp.column("hits"), expression=exp.Literal.number(100)),
                             expression=exp.column("rows")))

        register(kpispec.MetricType(
            name="share", lower=lower, description="Percentage of rows matching a condition.",
            schema={"properties": {"model": {"type": "string"}, "where": {"type": "string"}},
                    "required": ["model", "where"]}))

    @hookimpl
    def register_sources(self, register: Callable[..., None]) -> None:
        self.calls.append("register_sources")
        from kpispec_builtins import duckdb_source

        register(kpispec.SourceType(name="sink_memory", schemes=("kitchen",), dialect="duckdb",
                                    connect=lambda url: duckdb_source.connect_memory({})))

    @hookimpl
    def register_sinks(self, register: Callable[..., None]) -> None:
        self.calls.append("register_sinks")
        collected = self.collected = []  # type: ignore[var-annotated]

        class Writer:
            def write(self, batch: Any) -> None:
                collected.extend(batch.to_pylist())

            def close(self) -> None:
                collected.append("closed")

            def abort(self) -> None:
                collected.append("aborted")

        register(kpispec.SinkType(name="capture", schemes=("capture",),
                                  open=lambda target, schema, context: Writer()))

    @hookimpl
    def register_spec_paths(self, register: Callable[..., None]) -> None:
        self.calls.append("register_spec_paths")
        if self.spec_dir:
            register(self.spec_dir, name="kitchen_pack")

    @hookimpl
    def register_template_context(self, register: Callable[..., None]) -> None:
        self.calls.append("register_template_context")
        register("won_stage", "won")
        register("double", lambda x: x * 2)

    @hookimpl
    def register_lint_rules(self, register: Callable[..., None]) -> None:
        self.calls.append("register_lint_rules")

        def check(project: Any) -> Any:
            for name, metric in project.metrics.items():
                if name.startswith("tmp_"):
                    yield kpispec.SpecError(f"metric {name!r} looks temporary", metric.location,
                                            "Rename it")

        register(kpispec.LintRule(name="no_tmp_metrics", check=check))

    @hookimpl
    def modify_query(self, expression: exp.Expression, dialect: str, context: Any) -> Any:
        self.calls.append("modify_query")
        return expression.limit(1000)
