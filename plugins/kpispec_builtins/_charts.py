"""Chart geometry for the HTML report: axes, ticks, lines and bars, computed in Python.

Nothing here writes markup: :func:`build_chart` returns plain data (coordinates,
tick labels, colours) that the report's Jinja2 template turns into inline SVG,
escaping every text on the way. No JavaScript, no fonts, no network.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PALETTE", "Chart", "Series", "build_chart", "compact_number", "nice_ticks", "period_text"]

#: Colour-blind-safe series colours (Okabe-Ito, then Tableau), in order of use.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#4e79a7", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2")
#: Canvas size (SVG user units); the SVG scales to its container's width.
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 16, 44


@dataclass
class Series:
    """One line (or one colour of bars): a name and a value per period (None: no value)."""

    name: str
    values: list[float | None]
    color: str = PALETTE[0]
    kind: str = "value"  # value, target or compare
    #: Filled in by build_chart: SVG path data, point coordinates and bar rectangles.
    path: str = ""
    points: list[tuple[float, float, str]] = field(default_factory=list)
    bars: list[tuple[float, float, float, float, str]] = field(default_factory=list)


@dataclass
class Chart:
    """Everything the template draws."""

    kind: str  # line or bar
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    zero: float | None = None  # y of the value 0, when it is inside the plot
    band: float = 0.0  # half the width of a bar group (target marks in a bar chart)

    @property
    def empty(self) -> bool:
        return not any(v is not None for s in self.series for v in s.values)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 × 10^k).

    >>> nice_ticks(0, 97)
    [0.0, 25.0, 50.0, 75.0, 100.0]
    >>> nice_ticks(5, 5)
    [4.0, 4.5, 5.0, 5.5, 6.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) * 0.2 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks: list[float] = []
    value = first
    while value < high + step * 0.5 and len(ticks) < 20:
        ticks.append(round(value, 10) + 0.0)
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def compact_number(value: float, fmt: str | None = None, currency: str = "") -> str:
    """A tick label: short, with the metric's unit.

    >>> compact_number(1_250_000, "currency", "$"), compact_number(30, "percent"), compact_number(0.5)
    ('$1.25M', '30 %', '0.5')
    """
    magnitude = abs(value)
    suffix = ""
    for limit, letter in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            value, suffix = value / limit, letter
            break
    text = f"{value:,.2f}".rstrip("0").rstrip(".") + suffix
    if text in ("-0", ""):
        text = "0"
    if fmt == "percent":
        return f"{text} %"
    if fmt == "currency" and currency:
        if len(currency) == 1:
            return f"-{currency}{text[1:]}" if text.startswith("-") else f"{currency}{text}"
        return f"{text} {currency}"
    return text


def period_text(value: Any, grain: str, lang: str = "en") -> str:
    """A period as an axis label: ``Jan 2024`` (the month in ``lang``), ``Q1 2024``, ``2024``,
    or the date.

    >>> period_text(dt.date(2024, 4, 1), "quarter"), period_text(dt.date(2024, 2, 1), "month")
    ('Q2 2024', 'Feb 2024')
    >>> period_text(dt.date(2024, 2, 1), "month", "it")
    'feb 2024'
    """
    from kpispec._i18n import month_text

    day = value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(day, dt.date):
        return str(value)
    if grain == "month":
        return month_text(day.year, day.month, lang)
    if grain == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if grain == "year":
        return str(day.year)
    return day.isoformat()


def build_chart(periods: Sequence[str], series: list[Series], *,
                label: Callable[[float], str], bar: bool = False) -> Chart:
    """Lay out ``series`` over ``periods`` (axis labels, in order).

    Args:
        periods: one label per period, oldest first.
        series: value series (colours assigned in order), then target/compare series.
        label: formats a value for the y axis and the point tooltips.
        bar: grouped bars instead of lines (the report uses them for a single period).
    """
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if bar or (low >= 0 and low <= 0.35 * high):
        low = min(low, 0.0)  # bars start at zero; so do lines of mostly positive values
    if high <= 0 and (bar or high >= 0.35 * low):
        high = max(high, 0.0)
    ticks = nice_ticks(low, high)
    chart = Chart(kind="bar" if bar else "line", series=series, x_labels=[], y_ticks=[])
    span = (ticks[-1] - ticks[0]) or 1.0

    def y(value: float) -> float:
        return round(chart.bottom - (value - ticks[0]) / span * (chart.bottom - chart.top), 2)

    chart.y_ticks = [(y(t), label(t)) for t in ticks]
    if ticks[0] <= 0 <= ticks[-1]:
        chart.zero = y(0.0)
    n = max(len(periods), 1)
    plot = chart.right - chart.left
    if bar:
        step = plot / n
        chart.band = round(step * 0.4, 2)

        def x(i: int) -> float:
            return round(chart.left + step * (i + 0.5), 2)
    else:
        step = plot / max(n - 1, 1)

        def x(i: int) -> float:
            return round(chart.left + (step * i if n > 1 else plot / 2), 2)
    every = max(1, math.ceil(n / 8))
    chart.x_labels = [(x(i), text) for i, text in enumerate(periods) if i % every == 0]
    if bar:
        drawn = [s for s in series if s.kind == "value"]
        width = step * 0.8 / max(len(drawn), 1)
        base = chart.zero if chart.zero is not None else chart.bottom
        for k, s in enumerate(drawn):
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                left = x(i) - step * 0.4 + k * width
                top = min(y(v), base)
                s.bars.append((round(left, 2), round(top, 2), round(width * 0.92, 2),
                               round(abs(base - y(v)), 2), f"{s.name} · {periods[i]}: {label(v)}"))
        for s in series:
            if s.kind != "value":
                _line(s, periods, x, y, label)
    else:
        for s in series:
            _line(s, periods, x, y, label)
    return chart


def _line(s: Series, periods: Sequence[str], x: Callable[[int], float], y: Callable[[float], float],
          label: Callable[[float], str]) -> None:
    """Path data with a gap at every missing value, and one point per value."""
    parts: list[str] = []
    pen_down = False
    for i, v in enumerate(s.values):
        if v is None or not math.isfinite(v):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x(i)},{y(v)}")
        pen_down = True
        s.points.append((x(i), y(v), f"{s.name} · {periods[i]}: {label(v)}"))
    s.path = " ".join(parts)
