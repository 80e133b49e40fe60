"""A tiny SQL expression language: rendered as snippet text, evaluated in plain Python.

The generators build snippets (filters, measure expressions, dimension
expressions, ``--where``) as trees of these nodes, so the same tree gives the
SQL text kpispec reads and the value an independent Python computation
expects. Evaluation follows SQL: NULL (``None``) propagates through
arithmetic and comparisons, ``AND`` / ``OR`` / ``NOT`` use three-valued logic,
and ``IN`` with a NULL in the list is NULL rather than false.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

Env = Callable[[str], Any]


class Expr:
    """A node: ``sql(r)`` renders it, ``eval(env)`` computes it over one row."""

    def sql(self, r: Render) -> str:
        raise NotImplementedError

    def eval(self, env: Env) -> Any:
        raise NotImplementedError

    def names(self) -> set[str]:
        return set()


class Render:
    """How identifiers and literals are written in one dialect (through sqlglot)."""

    def __init__(self, dialect: str = "duckdb", *, quote_all: bool = False) -> None:
        from kpispec.compile.dialects import dialect_name, sqlglot_dialect

        self.dialect = sqlglot_dialect(dialect_name(dialect))
        self.quote_all = quote_all
        self._keywords = _keywords(self.dialect)

    def needs_quotes(self, name: str) -> bool:
        return (not _PLAIN.fullmatch(name) or name.upper() in self._keywords
                or name.lower() in ALWAYS_QUOTED)

    def ident(self, name: str) -> str:
        quoted = self.quote_all or self.needs_quotes(name)
        return exp.to_identifier(name, quoted=quoted).sql(dialect=self.dialect)

    def lit(self, value: Any) -> str:
        if self.dialect == "sqlite" and isinstance(value, dt.date):
            # sqlglot would write DATETIME('…'), a function kpispec's allow-list refuses
            kind = "TIMESTAMP" if isinstance(value, dt.datetime) else "DATE"
            return f"CAST('{value.isoformat(sep=' ') if kind == 'TIMESTAMP' else value}' AS {kind})"
        if isinstance(value, dt.datetime):  # T-SQL's TIMESTAMP is a rowversion: let sqlglot say
            return exp.cast(exp.Literal.string(f"{value:%Y-%m-%d %H:%M:%S}"),
                            exp.DataType.build("TIMESTAMP")).sql(dialect=self.dialect)
        if isinstance(value, dt.date):
            return exp.cast(exp.Literal.string(f"{value:%Y-%m-%d}"),
                            exp.DataType.build("DATE")).sql(dialect=self.dialect)
        return exp.convert(value).sql(dialect=self.dialect)


@functools.cache
def _keywords(dialect: str) -> frozenset[str]:
    """Words that need quotes as identifiers in ``dialect`` (tokenizer keywords, reserved words)."""
    tokenizer = sqlglot.Dialect.get_or_raise(dialect).tokenizer_class
    reserved = getattr(sqlglot.Dialect.get_or_raise(dialect).generator_class,
                       "RESERVED_KEYWORDS", ()) or ()
    return frozenset({k.upper() for k in tokenizer.KEYWORDS} | {w.upper() for w in reserved}
                     | {w.upper() for w in _DUCKDB_RESERVED})


_DUCKDB_RESERVED = sqlglot.Dialect.get_or_raise("duckdb").generator_class.RESERVED_KEYWORDS
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
#: Names that are functions or types somewhere and read badly unquoted.
ALWAYS_QUOTED = frozenset({
    "date", "time", "timestamp", "year", "month", "day", "week", "quarter", "user", "level",
    "start", "end", "key", "value", "values", "rows", "interval", "current_date", "period",
    "count", "sum", "min", "max", "avg", "filter", "window", "over", "left", "right", "first",
    "last", "offset", "position", "default", "format", "replace", "any", "some", "rank",
    "order", "group", "select", "from", "where", "table", "limit", "case", "null", "true",
    "false", "all", "and", "or", "not", "as", "on", "in", "is", "join", "desc", "asc",
    "partition", "union", "with", "having", "by", "then", "else", "when", "between", "like",
})


@dataclass(frozen=True)
class Name(Expr):
    name: str
    qualifier: str | None = None  # model.name

    def sql(self, r: Render) -> str:
        if self.qualifier:
            return f"{r.ident(self.qualifier)}.{r.ident(self.name)}"
        return r.ident(self.name)

    def eval(self, env: Env) -> Any:
        return env(f"{self.qualifier}.{self.name}" if self.qualifier else self.name)

    def names(self) -> set[str]:
        return {f"{self.qualifier}.{self.name}" if self.qualifier else self.name}


@dataclass(frozen=True)
class Lit(Expr):
    value: Any

    def sql(self, r: Render) -> str:
        text = r.lit(self.value)
        return f"({text})" if isinstance(self.value, (int, float)) and self.value < 0 else text

    def eval(self, env: Env) -> Any:
        return self.value


@dataclass(frozen=True)
class Arith(Expr):
    op: str  # + - *
    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"({self.a.sql(r)} {self.op} {self.b.sql(r)})"

    def eval(self, env: Env) -> Any:
        a, b = self.a.eval(env), self.b.eval(env)
        if a is None or b is None:
            return None
        return a + b if self.op == "+" else a - b if self.op == "-" else a * b

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"=": a == b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


@dataclass(frozen=True)
class Cmp(Expr):
    op: str  # = <> < <= > >=
    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"{self.a.sql(r)} {self.op} {self.b.sql(r)}"

    def eval(self, env: Env) -> Any:
        a, b = self.a.eval(env), self.b.eval(env)
        if a is None or b is None:
            return None
        return _compare(self.op, a, b)

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


@dataclass(frozen=True)
class IsNull(Expr):
    a: Expr
    negate: bool = False

    def sql(self, r: Render) -> str:
        return f"{self.a.sql(r)} IS {'NOT ' if self.negate else ''}NULL"

    def eval(self, env: Env) -> Any:
        return (self.a.eval(env) is None) != self.negate

    def names(self) -> set[str]:
        return self.a.names()


@dataclass(frozen=True)
class InList(Expr):
    a: Expr
    values: tuple[Any, ...]
    negate: bool = False

    def sql(self, r: Render) -> str:
        items = ", ".join(r.lit(v) for v in self.values)
        return f"{self.a.sql(r)} {'NOT ' if self.negate else ''}IN ({items})"

    def eval(self, env: Env) -> Any:
        a = self.a.eval(env)
        if a is None:
            return None
        if any(v is not None and v == a for v in self.values):
            found: bool | None = True
        elif any(v is None for v in self.values):
            found = None
        else:
            found = False
        return found if found is None or not self.negate else not found

    def names(self) -> set[str]:
        return self.a.names()


@dataclass(frozen=True)
class Between(Expr):
    a: Expr
    low: Any
    high: Any

    def sql(self, r: Render) -> str:
        return f"{self.a.sql(r)} BETWEEN {r.lit(self.low)} AND {r.lit(self.high)}"

    def eval(self, env: Env) -> Any:
        a = self.a.eval(env)
        return And(Cmp(">=", Lit(a), Lit(self.low)), Cmp("<=", Lit(a), Lit(self.high))).eval(env)

    def names(self) -> set[str]:
        return self.a.names()


@dataclass(frozen=True)
class Not(Expr):
    a: Expr

    def sql(self, r: Render) -> str:
        return f"NOT ({self.a.sql(r)})"

    def eval(self, env: Env) -> Any:
        a = self.a.eval(env)
        return None if a is None else not a

    def names(self) -> set[str]:
        return self.a.names()


@dataclass(frozen=True)
class And(Expr):
    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"({self.a.sql(r)}) AND ({self.b.sql(r)})"

    def eval(self, env: Env) -> Any:
        a, b = self.a.eval(env), self.b.eval(env)
        if a is False or b is False:
            return False
        if a is None or b is None:
            return None
        return True

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


@dataclass(frozen=True)
class Or(Expr):
    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"({self.a.sql(r)}) OR ({self.b.sql(r)})"

    def eval(self, env: Env) -> Any:
        a, b = self.a.eval(env), self.b.eval(env)
        if a is True or b is True:
            return True
        if a is None or b is None:
            return None
        return False

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


@dataclass(frozen=True)
class Case(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr

    def sql(self, r: Render) -> str:
        return (f"CASE WHEN {self.cond.sql(r)} THEN {self.then.sql(r)} "
                f"ELSE {self.otherwise.sql(r)} END")

    def eval(self, env: Env) -> Any:
        return self.then.eval(env) if self.cond.eval(env) is True else self.otherwise.eval(env)

    def names(self) -> set[str]:
        return self.cond.names() | self.then.names() | self.otherwise.names()


@dataclass(frozen=True)
class Coalesce(Expr):
    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"COALESCE({self.a.sql(r)}, {self.b.sql(r)})"

    def eval(self, env: Env) -> Any:
        a = self.a.eval(env)
        return self.b.eval(env) if a is None else a

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


@dataclass(frozen=True)
class Div(Expr):
    """Division as kpispec defines it in derived metrics: NULL when the divisor is 0."""

    a: Expr
    b: Expr

    def sql(self, r: Render) -> str:
        return f"({self.a.sql(r)} / {self.b.sql(r)})"

    def eval(self, env: Env) -> Any:
        a, b = self.a.eval(env), self.b.eval(env)
        if a is None or b is None or b == 0:
            return None
        return a / b

    def names(self) -> set[str]:
        return self.a.names() | self.b.names()


@dataclass(frozen=True)
class Templated(Expr):
    """A number written as a Jinja template: ``{{ var("limit_value", 5) }}`` (vars: 10)."""

    name: str = "limit_value"
    value: int = 10

    def sql(self, r: Render) -> str:
        return "{{ var(\"" + self.name + "\", 5) }}"

    def eval(self, env: Env) -> Any:
        return self.value
