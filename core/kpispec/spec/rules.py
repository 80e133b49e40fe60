"""From schema-valid documents to the frozen model, collecting every problem.

Each rule records :class:`SpecError` s instead of raising, so ``kpispec validate``
reports all problems at once: duplicate names, unknown models / metrics /
dimensions / columns (with a did-you-mean), cycles among derived metrics,
fan-out joins, and every snippet refused by :mod:`kpispec.spec.snippets`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kpispec.errors import Location, PluginError, SpecError
from kpispec.extensions import LowerContext, MetricType
from kpispec.spec.metric_graph import check_metric_graph
from kpispec.spec.model import (
    Dimension,
    Join,
    Measure,
    Metric,
    MetricInput,
    Model,
    Offset,
    Settings,
    Targets,
    Window,
)
from kpispec.spec.refine import Document, Item, claim
from kpispec.spec.resolve import ResolveError, Resolver
from kpispec.spec.schema import suggest
from kpispec.spec.snippets import parse_query, parse_snippet, unqualified
from kpispec.spec.system_objects import parse_table
from sqlglot import exp

__all__ = ["Built", "Document", "build"]


def _labels(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    return dict(value or {})


@dataclass(frozen=True)
class Built:
    """What :func:`build` made of the documents, and what it found wrong or left out."""

    models: dict[str, Model]
    metrics: dict[str, Metric]
    overrides: dict[str, list[str]]  # name -> the origins it overrides
    errors: list[SpecError]
    notes: list[tuple[str, SpecError]]  # (pack, why) of each pack part a refinement left out


@dataclass
class _Builder:
    settings: Settings
    metric_types: Mapping[str, tuple[MetricType, str]]
    packs: Mapping[str, bool] = field(default_factory=dict)  # installed pack -> in the project
    errors: list[SpecError] = field(default_factory=list)
    notes: list[tuple[str, SpecError]] = field(default_factory=list)  # pack parts left out
    _join_index: dict[str, list[int]] = field(default_factory=dict)  # model -> its joins' indices
    broken: set[str] = field(default_factory=set)
    models: dict[str, Model] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    # -- collection -----------------------------------------------------------------

    def collect(self, documents: Iterable[Document], skip: set[tuple[str, tuple[Any, ...]]],
                ) -> tuple[dict[str, Item], dict[str, Item], dict[str, list[str]]]:
        models: dict[str, Item] = {}
        metrics: dict[str, Item] = {}
        overrides: dict[str, list[str]] = {}
        for doc in documents:
            if not isinstance(doc.root, Mapping):
                continue
            for kind, table in (("model", models), ("metric", metrics)):
                for i, spec in enumerate(doc.root.get(f"{kind}s") or ()):
                    path = (f"{kind}s", i)
                    if not isinstance(spec, Mapping):
                        continue
                    if (doc.file, path) in skip:
                        if isinstance(spec.get("name"), str):
                            self.broken.add(spec["name"])
                        continue
                    item = Item(kind, spec["name"], spec, doc, path)
                    prior = table.get(item.name)
                    if prior is not None and prior.doc.origin == doc.origin:
                        self.errors.append(SpecError(
                            f"duplicate {kind} name {item.name!r} (first defined at "
                            f"{prior.loc('name').file}:{prior.loc('name').line})",
                            item.loc("name"), "Names are global: rename one of them"))
                        continue
                    if kind == "model" and doc.origin == "project":
                        claimed, errors, notes = claim(item, prior, self.packs)
                        self.errors += errors
                        self.notes += notes
                        if claimed is None:
                            continue
                        item = claimed
                    if prior is not None:  # refined or replaced; a metric: overridden
                        overrides.setdefault(item.name, []).append(prior.doc.origin)
                    table[item.name] = item
        return models, metrics, overrides

    # -- models ---------------------------------------------------------------------

    def build_models(self, items: Mapping[str, Item]) -> None:
        dialect = self.settings.dialect
        for name, item in items.items():
            spec = item.spec
            columns = None
            column_exprs: dict[str, exp.Expr] = {}
            column_types: dict[str, str] = {}
            if "columns" in spec:
                columns = tuple(c if isinstance(c, str) else c["name"] for c in spec["columns"])
                column_types = {c["name"]: str(c["type"]).lower() for c in spec["columns"]
                                if isinstance(c, Mapping) and "type" in c}
                for i, c in enumerate(spec["columns"]):
                    if isinstance(c, Mapping) and "expr" in c:
                        try:
                            column_exprs[c["name"]] = parse_snippet(
                                c["expr"], item.dialect(dialect, "columns", i),
                                item.loc("columns", i, "expr"), check_column=unqualified)
                        except SpecError as exc:
                            self.errors.append(exc)
            if "table" not in spec and "sql" not in spec:
                self.errors.append(SpecError(
                    "a model needs 'table' or 'sql'", item.loc(),
                    "Give the table it reads, or a SELECT as 'sql' (a model that refines a pack's "
                    "model with 'refine:' may leave both out)"))
                continue
            try:
                if "sql" in spec:
                    relation: exp.Expr = exp.Subquery(
                        this=parse_query(spec["sql"], item.dialect(dialect, "sql"), item.loc("sql")))
                else:
                    relation = parse_table(spec["table"], item.loc("table"))
            except SpecError as exc:
                self.errors.append(exc)
                continue
            pk = spec.get("primary_key", ())
            pk = (pk,) if isinstance(pk, str) else tuple(pk)
            dims: dict[str, Dimension] = {}
            for i, dspec in enumerate(spec.get("dimensions") or ()):
                dname = dspec if isinstance(dspec, str) else dspec["name"]
                where = item.loc("dimensions", i)
                if dname in dims:
                    self.errors.append(SpecError(f"duplicate dimension {dname!r} in model {name!r}", where))
                    continue
                try:
                    if isinstance(dspec, str) or "expr" not in dspec:
                        tree: exp.Expr = exp.column(dname)
                    else:
                        tree = parse_snippet(dspec["expr"], item.dialect(dialect, "dimensions", i),
                                             item.loc("dimensions", i, "expr"))
                except SpecError as exc:
                    self.errors.append(exc)
                    continue
                extra = {} if isinstance(dspec, str) else dspec
                dims[dname] = Dimension(dname, tree, name, extra.get("type", "categorical"),
                                        _labels(extra.get("label")), extra.get("description", ""),
                                        where)
            kept = [i for i, j in enumerate(spec.get("joins") or ())
                    if j["model"] in items or not self._inherited_join_left_out(item, i)]
            self._join_index[name] = kept
            joins = tuple(Join(j["model"], j["on"], j.get("to", j["on"]), item.loc("joins", i))
                          for i, j in ((i, spec["joins"][i]) for i in kept))
            lifecycle = spec.get("lifecycle")
            self.models[name] = Model(
                name=name, relation=relation, primary_key=pk, time=spec.get("time"),
                columns=columns, column_exprs=column_exprs, column_types=column_types,
                lifecycle=(lifecycle["start"], lifecycle.get("end")) if lifecycle else None,
                dimensions=dims, joins=joins, labels=_labels(spec.get("label")),
                description=spec.get("description", ""), origin=item.doc.origin,
                location=item.loc())
        self._check_models(items)

    def _check_models(self, items: Mapping[str, Item]) -> None:
        resolver = Resolver(self.models)
        for name, model in self.models.items():
            item = items[name]
            for key, col in [("primary_key", c) for c in model.primary_key] + (
                    [("time", model.time)] if model.time else []):
                self._check_column(resolver, name, col, item.loc(key))
            for key, lifecycle_col in zip(("start", "end"), model.lifecycle or (), strict=False):
                if lifecycle_col:
                    self._check_column(resolver, name, lifecycle_col, item.loc("lifecycle", key))
            for i, join in zip(self._join_index[name], model.joins, strict=True):
                where = item.loc("joins", i)
                if join.model not in self.models:
                    self.errors.append(SpecError(
                        f"unknown model {join.model!r}", item.loc("joins", i, "model"),
                        suggest(join.model, self.models)))
                    continue
                target = self.models[join.model]
                self._check_column(resolver, name, join.on, item.loc("joins", i, "on"))
                if target.primary_key != (join.to,):
                    pk = ", ".join(target.primary_key) or "none"
                    self.errors.append(SpecError(
                        f"join to {join.model!r} on {join.to!r} may fan out: {join.to!r} is not "
                        f"the primary key of {join.model!r} (primary_key: {pk})", where,
                        "Joins must be many-to-one: join on the other model's primary key"))
            for dim in model.dimensions.values():
                try:
                    resolver.check(name, dim.expr, names="columns")
                except ResolveError as exc:
                    self.errors.append(SpecError(exc.message, dim.location, exc.hint))

    def _inherited_join_left_out(self, item: Item, index: int) -> bool:
        """A refinement's join inherited from the pack, to a model not in the project, goes."""
        if not item.inherited("joins", index):
            return False
        target = item.spec["joins"][index]["model"]
        self.notes.append((item.source("joins", index)[0].doc.origin, SpecError(
            f"the pack's join to model {target!r}, which is not part of this project",
            item.loc("joins", index))))
        return True

    def _check_column(self, resolver: Resolver, model: str, column: str, where: Location) -> None:
        try:
            resolver.column(model, column)
        except ResolveError as exc:
            self.errors.append(SpecError(exc.message, where, exc.hint))

    # -- metrics --------------------------------------------------------------------

    def build_metrics(self, items: Mapping[str, Item]) -> None:
        resolver = Resolver(self.models)
        for name, item in items.items():
            spec = item.spec
            dialect = item.dialect(self.settings.dialect)  # a pack's metric: the pack's
            type_name = spec["type"]
            metric_type, plugin = self.metric_types[type_name]

            def parse(text: str, _item: Item = item, _dialect: str = dialect) -> exp.Expr:
                # Metric expressions combine measures and metrics, which are already
                # aggregated: a further aggregate would need another GROUP BY.
                return parse_snippet(text, _dialect, _item.loc("expr") if "expr" in _item.spec
                                     else _item.loc())

            try:
                lowered = metric_type.lower(spec, LowerContext(dialect, name, parse, self.settings,
                                                               self.models))
            except SpecError as exc:
                if exc.location is None or not exc.location.file:
                    exc = SpecError(exc.message, item.loc(), exc.hint)
                self.errors.append(exc)
                continue
            except Exception as exc:
                err = PluginError(f"lowering metric {name!r} raised {type(exc).__name__}: {exc}",
                                  plugin=plugin, hook="register_metric_types")
                self.errors.append(SpecError(str(err), item.loc()))
                continue
            measures: dict[str, Measure] = {}
            ok = True
            for role, mspec in lowered.measures.items():
                measure = self._measure(resolver, item, role, mspec)
                if measure is None:
                    ok = False
                else:
                    measures[role] = measure
            metric_filter = None
            if "filter" in spec:
                try:
                    metric_filter = parse_snippet(spec["filter"], dialect, item.loc("filter"))
                    for measure in measures.values():
                        resolver.check(measure.model, metric_filter, names="all")
                except SpecError as exc:
                    self.errors.append(exc)
                    ok = False
                except ResolveError as exc:
                    self.errors.append(SpecError(exc.message, item.loc("filter"), exc.hint))
                    ok = False
            if not ok:
                continue
            inputs = {}
            for input_name, ispec in lowered.inputs.items():
                if input_name in items or input_name in measures:
                    self.errors.append(SpecError(
                        f"input name {input_name!r} is already a metric or measure name",
                        item.loc("inputs") if "inputs" in spec else item.loc(),
                        "Choose another name for the input"))
                    ok = False
                offset = ispec.get("offset")
                inputs[input_name] = MetricInput(ispec["metric"],
                                                 Offset.parse(offset) if offset else Offset())
            if not ok:
                continue
            refs = []
            trees = [lowered.expr, *lowered.columns.values()]
            for column in (c for tree in trees for c in tree.find_all(exp.Column)):
                if column.table or column.name not in measures:
                    ref = column.sql() if column.table else column.name  # "Sales": Sales
                    refs.append(inputs[ref].metric if ref in inputs else ref)
            refs += [i.metric for i in inputs.values()]
            self.metrics[name] = Metric(
                name=name, type=type_name, measures=measures, expr=lowered.expr,
                refs=tuple(dict.fromkeys(refs)), inputs=inputs, columns=dict(lowered.columns),
                column_formats=dict(lowered.column_formats),
                labels=_labels(spec.get("label")),
                description=spec.get("description", ""), format=spec.get("format"),
                grain=spec.get("grain"), filter=metric_filter,
                targets=self._targets(item, spec), meta=spec.get("meta", {}),
                spec=spec, origin=item.doc.origin, location=item.loc())
        self._check_refs(items)

    def _measure(self, resolver: Resolver, item: Item, role: str,
                 mspec: Mapping[str, Any]) -> Measure | None:
        key = next((k for k, v in item.spec.items() if v is mspec), None)
        sub = (key,) if key is not None else ()
        model_name = mspec.get("model")
        if model_name not in self.models:
            if model_name in self.broken:
                return None  # already reported by the schema check
            self.errors.append(SpecError(f"unknown model {model_name!r}", item.loc(*sub, "model"),
                                         suggest(str(model_name), self.models)))
            return None
        model = self.models[model_name]
        dialect = item.dialect(self.settings.dialect)
        trees: dict[str, exp.Expr | None] = {}
        for key in ("expr", "filter"):
            value = mspec.get(key)
            where = item.loc(*sub, key)
            try:
                if value is None:
                    trees[key] = None
                elif isinstance(value, exp.Expr):
                    trees[key] = value
                else:
                    trees[key] = parse_snippet(str(value), dialect, where)
                if trees[key] is not None:
                    resolver.check(model_name, trees[key], names="own")  # type: ignore[arg-type]
            except SpecError as exc:
                self.errors.append(exc)
                return None
            except ResolveError as exc:
                self.errors.append(SpecError(f"{exc.message} in {value!r}", where, exc.hint))
                return None
        at = mspec.get("at")
        window = _window(mspec)
        if at is not None and window is not None:
            self.errors.append(SpecError(
                "a point-in-time ('at') measure cannot also have a window, cumulative or "
                "grain_to_date", item.loc(*sub, "at")))
            return None
        if at is not None:
            if model.lifecycle is None:
                self.errors.append(SpecError(
                    f"'at: {at}' needs a lifecycle on model {model_name!r}", item.loc(*sub, "at"),
                    f"Give {model_name!r} a lifecycle: {{start: <column>, end: <column>}}"))
                return None
            return Measure(model=model_name, agg=mspec.get("agg", "count"), expr=trees["expr"],
                           filter=trees["filter"], p=mspec.get("p"), at=at,
                           location=item.loc(*sub))
        time = mspec.get("time") or model.time
        if time is None:
            self.errors.append(SpecError(
                f"model {model_name!r} has no time column, so this measure cannot be placed "
                "in periods", item.loc(*sub),
                f"Give the measure a 'time', or the model {model_name!r} a 'time'"))
            return None
        try:
            resolver.column(model_name, time)
        except ResolveError as exc:
            self.errors.append(SpecError(exc.message, item.loc(*sub, "time")
                                         if "time" in mspec else item.loc(*sub), exc.hint))
            return None
        agg = mspec.get("agg", "count")
        if agg in ("sum", "avg", "min", "max", "median", "percentile", "count_distinct") \
                and trees["expr"] is None:
            self.errors.append(SpecError(f"agg {agg!r} needs an 'expr'", item.loc(*sub)))
            return None
        return Measure(model=model_name, agg=agg, expr=trees["expr"], filter=trees["filter"],
                       time=time, p=mspec.get("p"), window=window, location=item.loc(*sub))

    def _targets(self, item: Item, spec: Mapping[str, Any]) -> Targets | None:
        tspec = spec.get("targets")
        if not isinstance(tspec, Mapping):
            return None
        grain = tspec.get("grain") or spec.get("grain") or "month"
        calendar = self.settings.calendar
        periods: dict[dt.date, float] = {}
        for i, entry in enumerate(tspec.get("periods") or ()):
            where = item.loc("targets", "periods", i, "period")
            try:
                day = dt.date.fromisoformat(str(entry["period"]))
            except ValueError:
                self.errors.append(SpecError(f"{entry['period']!r} is not a date", where,
                                             "Write the period's first day as YYYY-MM-DD"))
                continue
            first = calendar.period_start(day, grain)
            if first != day:
                self.errors.append(SpecError(
                    f"{day} is not the first day of a {grain} period", where,
                    f"The {grain} period holding it starts on {first}"))
                continue
            if day in periods:
                self.errors.append(SpecError(f"a second target for the period {day}", where))
                continue
            periods[day] = float(entry["value"])
        value = tspec.get("value")
        return Targets(value=float(value) if value is not None else None, periods=periods,
                       grain=grain, higher_is_better=bool(tspec.get("higher_is_better", True)),
                       location=item.loc("targets"))

    def _check_refs(self, items: Mapping[str, Item]) -> None:
        for name, metric in list(self.metrics.items()):
            item = items[name]
            where = item.loc("expr") if "expr" in item.spec else item.loc()
            input_specs = list(item.spec.get("inputs") or ())
            for ref in metric.refs:
                if ref in self.broken:
                    # The metric it uses was left out (its own error is reported): so is this
                    # one. For a pack's metric, say why; the user's own load fails anyway.
                    self.metrics.pop(name, None)
                    self.broken.add(name)
                    if item.doc.origin != "project":
                        self.errors.append(SpecError(f"uses metric {ref!r}, which was left out",
                                                     where))
                    break
                if ref not in items:
                    at = next((item.loc("inputs", i, "metric") for i, spec in enumerate(input_specs)
                               if spec.get("metric") == ref), where)
                    self.errors.append(SpecError(
                        f"unknown metric {ref!r}", at,
                        suggest(ref, [*items, *metric.measures, *metric.inputs])))
        # Cycles, chains too deep, expressions too big (kpispec.spec.metric_graph).
        issues, left_out = check_metric_graph(self.metrics)
        for issue in issues:
            item = items[issue.metric]
            self.errors.append(SpecError(issue.message, item.loc("expr") if "expr" in item.spec
                                         else item.loc(), issue.hint))
        for name in left_out:
            self.metrics.pop(name, None)


def _window(mspec: Mapping[str, Any]) -> Window | None:
    if mspec.get("window"):
        return Window(length=Offset.parse(str(mspec["window"])))
    if mspec.get("grain_to_date"):
        return Window(to_date=str(mspec["grain_to_date"]))
    if mspec.get("cumulative"):
        return Window()
    return None


def build(documents: list[Document], settings: Settings,
          metric_types: Mapping[str, tuple[MetricType, str]],
          skip: set[tuple[str, tuple[Any, ...]]] | None = None,
          packs: Mapping[str, bool] | None = None) -> Built:
    """Build models and metrics from schema-valid documents.

    Args:
        documents: pack documents first, then the project's own.
        settings: the project settings (dialect…).
        metric_types: type name → (type, plugin that registered it).
        skip: (file, path) of items that failed the schema, left out here.
        packs: every installed pack → whether it is part of the project (for ``refine``).
    """
    builder = _Builder(settings, metric_types, packs or {})
    model_items, metric_items, overrides = builder.collect(documents, skip or set())
    builder.build_models(model_items)
    builder.build_metrics({k: v for k, v in metric_items.items()
                           if v.spec.get("type") in metric_types})
    return Built(builder.models, builder.metrics, overrides, builder.errors, builder.notes)
