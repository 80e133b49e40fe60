"""What every kpispec dialect class has: the spelling of kpispec's nodes, with defaults.

A dialect class is a subclass of sqlglot's dialect and of :class:`Spelling`. Its
class attributes hold what differs in that dialect — constant SQL templates
(parsed by sqlglot in the dialect, with the placeholder columns ``__x``, ``__n``…
replaced by expression trees; user input never passes through a template's
text), the aggregates it cannot compute, the words it reserves that sqlglot does
not list — and it overrides a method where a template is not enough. Its nested
Generator renders kpispec's nodes through :meth:`Spelling.spell`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.generator import Generator

from kpispec.compile import nodes
from kpispec.compile._templates import fill
from kpispec.extensions import AddDays

__all__ = ["Spelling", "null_safe_eq_spelled_out", "spelled"]

_LOWERED = (*nodes.NODES, AddDays)


class Spelling:
    """kpispec's rules for one dialect (mixed into a sqlglot dialect subclass)."""

    #: The kpispec name of the dialect, and the sqlglot dialect that parses its templates.
    NAME: ClassVar[str]
    SQLGLOT: ClassVar[str]
    #: Aggregations the dialect cannot compute (as an aggregate over a GROUP BY).
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset()
    #: The longest result column name the engine takes, where a metric or dimension name
    #: may plausibly reach it (None: no such limit), counted in UTF-8 "bytes" or "characters".
    COLUMN_NAME_LIMIT: ClassVar[int | None] = None
    COLUMN_NAME_UNIT: ClassVar[str] = "characters"
    #: Reserved words sqlglot does not list for the dialect (from the engine's documentation).
    EXTRA_RESERVED: ClassVar[frozenset[str]] = frozenset()
    #: Truncation of a timestamp to the first day (a DATE) of its period, by grain.
    TRUNCATE: ClassVar[Mapping[str, str]] = {}
    #: Adding ``__n`` days or months to a DATE that is a period's first day, by unit.
    ADD: ClassVar[Mapping[str, str]] = {}
    #: Adding ``__n`` days to a timestamp, keeping its time of day.
    ADD_DAYS: ClassVar[str | None] = None
    #: Adding ``__n`` seconds to a timestamp.
    ADD_SECONDS: ClassVar[str | None] = None
    #: Wall-clock time in the zone ``__z`` of the naive UTC timestamp ``__x``, where the
    #: engine has a zone database it can be trusted to have (else the zone's offsets).
    TO_LOCAL: ClassVar[str | None] = None
    #: 'FY' || year (as text) || quarter.
    CONCAT: ClassVar[str] = "CONCAT(__a, CAST(__b AS VARCHAR), __c)"

    def fill(self, text: str, **values: exp.Expr) -> exp.Expr:
        """The template ``text`` parsed in this dialect, with ``values`` in its placeholders."""
        return fill(self.SQLGLOT, text, **values)

    # -- the nodes, one method each -----------------------------------------------------

    def truncate(self, node: nodes.Truncate) -> exp.Expr:
        template = self.TRUNCATE.get(node.args["grain"])
        if template is not None:
            return self.fill(template, x=node.this)
        unit = exp.Literal.string(node.args["grain"].upper())
        trunc = exp.DateTrunc(this=node.this, unit=unit)  # type: ignore[no-untyped-call]
        return exp.cast(trunc, exp.DataType.Type.DATE)

    def add_periods(self, node: nodes.AddPeriods) -> exp.Expr:
        template = self.ADD.get(node.args["unit"])
        if template is not None:
            return self.fill(template, x=node.this, n=node.expression)
        added = exp.DateAdd(this=node.this, expression=node.expression,
                            unit=exp.var(node.args["unit"].upper()))
        return exp.cast(added, exp.DataType.Type.DATE)

    def add_months_clamped(self, node: nodes.AddMonthsClamped) -> exp.Expr:
        return self.add_periods(nodes.AddPeriods(this=node.this, expression=node.expression,
                                                 unit="month"))

    def add_days(self, node: AddDays) -> exp.Expr:
        if self.ADD_DAYS is not None:
            return self.fill(self.ADD_DAYS, x=node.this, n=node.args["days"])
        return exp.DateAdd(this=node.this, expression=node.args["days"], unit=exp.var("DAY"))

    def add_seconds(self, node: nodes.AddSeconds) -> exp.Expr:
        if self.ADD_SECONDS is not None:
            return self.fill(self.ADD_SECONDS, x=node.this, n=node.expression)
        return exp.DateAdd(this=node.this, expression=node.expression, unit=exp.var("SECOND"))

    def date_literal(self, node: nodes.DateLiteral) -> exp.Expr:
        return exp.cast(node.this, exp.DataType.Type.DATE)

    def timestamp_literal(self, node: nodes.TimestampLiteral) -> exp.Expr:
        return exp.cast(node.this, exp.DataType.Type.TIMESTAMP)

    def instant(self, node: nodes.Instant) -> exp.Expr:
        return exp.cast(node.this, exp.DataType.Type.TIMESTAMP)

    def to_local(self, node: nodes.ToLocal) -> exp.Expr:
        if self.TO_LOCAL is not None:
            return self.fill(self.TO_LOCAL, x=node.this, z=node.args["zone"])
        from kpispec.calendar import Calendar

        offsets = Calendar(timezone=node.args["zone"].name).offsets(*(node.span() or ()))
        return self.lower(nodes.offsets_case(node.this, offsets), whole=False)

    def date_part(self, node: nodes.DatePart) -> exp.Expr:
        return exp.Extract(this=exp.var(node.args["part"]), expression=node.this)

    def label_concat(self, node: nodes.LabelConcat) -> exp.Expr:
        return self.fill(self.CONCAT, a=node.this, b=node.expression, c=node.args["suffix"])

    def percentile(self, node: nodes.Percentile) -> exp.Expr:
        return exp.WithinGroup(this=exp.PercentileCont(this=node.expression),
                               expression=exp.Order(expressions=[exp.Ordered(this=node.this)]))

    def null_safe_eq(self, node: nodes.NullSafeEq) -> exp.Expr:
        return exp.NullSafeEQ(this=node.this, expression=node.expression)

    def table_refusal(self, table: str, db: str) -> str | None:
        """Why a query must not read the table ``db.table`` here (the engine would read a
        file, …), or None. Part of :mod:`kpispec.compile.guard`'s strict check."""
        return None

    # -- whole trees --------------------------------------------------------------------

    def finish(self, tree: exp.Expr) -> exp.Expr:
        """What the whole query needs in this dialect (session-independent settings…)."""
        return tree

    def portable(self, tree: exp.Expr) -> exp.Expr:
        """Rewrite constructs of users' snippets whose sqlglot spelling is wrong here (in place;
        the rewrites are in :mod:`kpispec.compile.snippet_functions`)."""
        return tree

    def spell(self, node: exp.Expr) -> exp.Expr:
        """One kpispec node, its children already standard, as standard sqlglot nodes."""
        method: Callable[[exp.Expr], exp.Expr] = getattr(self, _METHODS[type(node)])
        return method(node)

    def lower(self, tree: exp.Expr, *, whole: bool = True) -> exp.Expr:
        """``tree`` with every kpispec node spelled in standard sqlglot nodes (in place);
        ``whole``: ``tree`` is the whole query (:meth:`finish` applies)."""
        # Deepest first: a node is spelled once its children are.
        for node in reversed(list(tree.walk(bfs=True))):
            if isinstance(node, _LOWERED):
                spelled = self.spell(node)
                if node is tree:
                    tree = spelled
                else:
                    node.replace(spelled)
        return self.finish(tree) if whole else tree


_METHODS: dict[type[exp.Expr], str] = {
    nodes.Truncate: "truncate", nodes.AddPeriods: "add_periods",
    nodes.AddMonthsClamped: "add_months_clamped", AddDays: "add_days",
    nodes.AddSeconds: "add_seconds", nodes.DateLiteral: "date_literal",
    nodes.TimestampLiteral: "timestamp_literal", nodes.Instant: "instant",
    nodes.ToLocal: "to_local", nodes.DatePart: "date_part", nodes.LabelConcat: "label_concat",
    nodes.Percentile: "percentile", nodes.NullSafeEq: "null_safe_eq",
}


def _render(generator: Generator, expression: exp.Expr) -> str:
    spelling: Spelling = generator.dialect  # type: ignore[assignment]
    return generator.sql(spelling.lower(expression.copy(), whole=False))


def spelled(transforms: Mapping[type[exp.Expr], Any]) -> dict[type[exp.Expr], Any]:
    """A Generator's ``TRANSFORMS`` with kpispec's nodes added (spelled by the dialect)."""
    return {**transforms, **dict.fromkeys(_LOWERED, _render)}


def null_safe_eq_spelled_out(node: nodes.NullSafeEq) -> exp.Expr:
    """``(a = b OR (a IS NULL AND b IS NULL))``, for dialects without a null-safe equality."""
    left, right = node.this, node.expression
    both_null = exp.and_(exp.Is(this=left.copy(), expression=exp.Null()),
                         exp.Is(this=right.copy(), expression=exp.Null()))
    return exp.paren(exp.or_(exp.EQ(this=left, expression=right), both_null))
