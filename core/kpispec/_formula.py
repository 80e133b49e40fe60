"""What a metric computes, as one line a reader can follow (for reports and sinks).

The line is written from the lowered metric: its expression, with each measure
role replaced by what that measure aggregates — ``count of deals where stage =
'won', by closed_at`` — and each input at an offset named with its offset. It
is display text, never SQL that runs, and is written in the run's ``--lang``
(the snippets themselves stay as written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from kpispec._i18n import _t, grain_text

__all__ = ["UNITS", "WORDS", "metric_formula"]

#: The words of a formula line, in every language of :data:`kpispec._i18n.LANGUAGES`.
WORDS: Mapping[str, Mapping[str, str]] = {
    "measure": _t("{agg} of {model}", "{agg} din {model}", "{agg} w {model}", "{agg} di {model}",
                  "{model} 的{agg}", "{agg} в {model}"),
    "where": _t(" where {condition}", " unde {condition}", " gdzie {condition}",
                " dove {condition}", "，条件 {condition}", " где {condition}"),
    "by": _t(", by {time}", ", după {time}", ", według {time}", ", per {time}", "，按 {time}",
             ", по {time}"),
    "period_start": _t(", at period start", ", la începutul perioadei", ", na początek okresu",
                       ", a inizio periodo", "，期初", ", на начало периода"),
    "period_end": _t(", at period end", ", la sfârșitul perioadei", ", na koniec okresu",
                     ", a fine periodo", "，期末", ", на конец периода"),
    "window": _t(" over the last {length}", ", fereastră: {length}", ", okno: {length}",
                 ", finestra: {length}", "，最近{length}", ", окно: {length}"),
    "to_date": _t(", {grain} to date", ", de la începutul perioadei: {grain}",
                  ", od początku okresu: {grain}", ", dall'inizio del periodo: {grain}",
                  "，{grain}初至今", ", с начала периода: {grain}"),
    "cumulative": _t(", cumulative", ", cumulat", ", narastająco", ", cumulativo", "，累计",
                     ", нарастающим итогом"),
    "earlier": _t("{metric}, {offset} earlier", "{metric}, cu {offset} în urmă",
                  "{metric}, {offset} wcześniej", "{metric}, {offset} prima", "{metric}，{offset}前",
                  "{metric}, {offset} назад"),
    # Aggregations (English: the spec's own word).
    "count": _t("count", "număr", "liczba", "conteggio", "计数", "количество"),
    "count_distinct": _t("count_distinct", "număr distinct", "liczba różnych", "conteggio distinti",
                         "去重计数", "количество различных"),
    "sum": _t("sum", "sumă", "suma", "somma", "求和", "сумма"),
    "avg": _t("avg", "medie", "średnia", "media", "平均值", "среднее"),
    "min": _t("min", "minim", "minimum", "minimo", "最小值", "минимум"),
    "max": _t("max", "maxim", "maksimum", "massimo", "最大值", "максимум"),
    "median": _t("median", "mediană", "mediana", "mediana", "中位数", "медиана"),
    "percentile": _t("percentile {p}", "percentila {p}", "percentyl {p}", "percentile {p}",
                     "{p} 分位数", "перцентиль {p}"),
}

#: Units of a length or offset: (one, few, many) in Polish and Russian, (one, other) in Romanian
#: and Italian, the counter in Chinese.
UNITS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "day": {"ro": ("zi", "zile"), "pl": ("dzień", "dni", "dni"), "it": ("giorno", "giorni"),
            "zh": ("天",), "ru": ("день", "дня", "дней")},
    "week": {"ro": ("săptămână", "săptămâni"), "pl": ("tydzień", "tygodnie", "tygodni"),
             "it": ("settimana", "settimane"), "zh": ("周",), "ru": ("неделя", "недели", "недель")},
    "month": {"ro": ("lună", "luni"), "pl": ("miesiąc", "miesiące", "miesięcy"),
              "it": ("mese", "mesi"), "zh": ("个月",), "ru": ("месяц", "месяца", "месяцев")},
    "year": {"ro": ("an", "ani"), "pl": ("rok", "lata", "lat"), "it": ("anno", "anni"),
             "zh": ("年",), "ru": ("год", "года", "лет")},
}


def metric_formula(metric: Any, dialect: str = "duckdb", lang: str = "en") -> str:
    """One readable line saying what ``metric`` (a :class:`kpispec.spec.model.Metric`) computes.

    >>> import sqlglot
    >>> from types import SimpleNamespace as NS
    >>> count = NS(model="deals", agg="count", expr=None, filter=sqlglot.parse_one("stage = 'won'"),
    ...            time="closed_at", p=None, at=None, window=None)
    >>> leads = NS(model="leads", agg="count", expr=None, filter=None, time="created_at", p=None,
    ...            at=None, window=None)
    >>> m = NS(measures={"numerator": count, "denominator": leads}, inputs={},
    ...        expr=sqlglot.parse_one("numerator * 100 / denominator"))
    >>> metric_formula(m)
    "(count of deals where stage = 'won', by closed_at) * 100 / (count of leads, by created_at)"
    >>> metric_formula(m, lang="pl")
    "(liczba w deals gdzie stage = 'won', według closed_at) * 100 / (liczba w leads, według created_at)"
    """
    measures: Mapping[str, Any] = getattr(metric, "measures", {}) or {}
    inputs: Mapping[str, Any] = getattr(metric, "inputs", {}) or {}
    tree = getattr(metric, "expr", None)
    if not isinstance(tree, exp.Expr):
        return ""
    alone = isinstance(tree, exp.Column)

    def describe(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            if node.name in measures:
                text = _measure(measures[node.name], dialect, lang)
                return exp.Var(this=text if alone else f"({text})")
            if node.name in inputs:
                source = inputs[node.name]
                offset = getattr(source, "offset", None)
                name = getattr(source, "metric", node.name)
                shown = _word("earlier", lang, metric=name, offset=_length(offset, lang)) \
                    if offset else name
                return exp.Var(this=f"({shown})")
        return node

    try:
        return " ".join(tree.transform(describe).sql(dialect=dialect).split())
    except Exception:  # a metric type's own node no dialect spells: show the tree as written
        return " ".join(tree.sql().split())


def _word(key: str, lang: str, **values: Any) -> str:
    entry = WORDS[key]
    return (entry.get(lang) or entry["en"]).format(**values)


def _measure(measure: Any, dialect: str, lang: str) -> str:
    agg = str(getattr(measure, "agg", ""))
    expr = getattr(measure, "expr", None)
    p = getattr(measure, "p", None)
    if agg == "percentile" and isinstance(p, (int, float)):
        agg = _word("percentile", lang, p=f"{p:g}")
    elif agg in WORDS and agg != "percentile":
        agg = _word(agg, lang)
    text = _word("measure", lang, agg=agg if expr is None else f"{agg}({_sql(expr, dialect)})",
                 model=getattr(measure, "model", "?"))
    condition = getattr(measure, "filter", None)
    if condition is not None:
        text += _word("where", lang, condition=_sql(condition, dialect))
    at = getattr(measure, "at", None)
    if at:
        text += _word(str(at), lang) if str(at) in ("period_start", "period_end") \
            else f", at {str(at).replace('_', ' ')}"
    elif getattr(measure, "time", None):
        text += _word("by", lang, time=measure.time)
    window = getattr(measure, "window", None)
    if window is not None:
        length = getattr(window, "length", None)
        to_date = getattr(window, "to_date", None)
        text += (_word("window", lang, length=_length(length, lang)) if length is not None
                 else _word("to_date", lang, grain=grain_text(str(to_date), lang)) if to_date
                 else _word("cumulative", lang))
    return text


def _length(offset: Any, lang: str) -> str:
    """A length or offset (``3 month``) in ``lang``: ``3 miesiące``, ``90 de zile``, ``3个月``."""
    count, _, unit = str(offset).partition(" ")
    forms = UNITS.get(unit, {}).get(lang)
    if not forms or not count.isdigit():
        return str(offset)  # English, as the spec writes it
    n = int(count)
    if lang == "zh":
        return f"{n}{forms[0]}"
    if len(forms) == 3:  # Polish, Russian: one, few (2-4, not 12-14), many
        one = n % 10 == 1 and n % 100 != 11 if lang == "ru" else n == 1
        few = n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14)
        return f"{n} {forms[0] if one else forms[1] if few else forms[2]}"
    if n == 1:
        return f"{n} {forms[0]}"
    # Romanian says "de" before the noun from 20 on (except 101-119…): "20 de zile".
    de = "de " if lang == "ro" and (n % 100 >= 20 or n % 100 == 0) else ""
    return f"{n} {de}{forms[1]}"


def _sql(tree: Any, dialect: str) -> str:
    if not isinstance(tree, exp.Expr):
        return str(tree)
    try:
        return " ".join(tree.sql(dialect=dialect).split())
    except Exception:
        return " ".join(tree.sql().split())
