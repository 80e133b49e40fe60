"""The HTML report sink: self-contained, one section per metric, and rendered by a real browser.

The browser test opens the report in headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it) with every host name unresolvable, saves a screenshot
to ``tests/artifacts/`` (ignored by git; the path is printed), and checks that
each metric's chart is drawn, that no console message appeared, and that
printing works. Outside CI, no Chromium skips it; with CI set it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kpispec
import pytest
from kpispec.extensions import SinkContext
from kpispec.output import write_result
from kpispec_builtins import html_sink
from kpispec_builtins._charts import PALETTE, nice_ticks

from tests.unit import sinks_support as support

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("report")
    project_dir = support.make_project(root / "project")
    url = support.make_database(root / "crm.duckdb")
    project = kpispec.load_project(project_dir, packs=False)
    options = {"by": ["region"], "start": "2023-10-01", "end": "2024-04-01",
               "compare": "previous_period", "targets": True}
    result = project.run(support.METRICS, source=url, **options)
    target = root / "report.html"
    write_result(project, support.METRICS, source=url, sinks=[str(target)], options=options)
    return SimpleNamespace(path=target, html=target.read_text(encoding="utf-8"), result=result,
                           url=url, project=project, root=root)


class _Sections(HTMLParser):
    """Each metric section's chart elements and table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, Any]] = {}
        self._current: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section" and attributes.get("data-metric"):
            self._current = str(attributes["data-metric"])
            self.sections[self._current] = {"svg": 0, "paths": 0, "points": 0, "rows": [],
                                            "headers": []}
        section = self.sections.get(self._current or "")
        if section is None:
            return
        if tag == "svg":
            section["svg"] += 1
        elif tag == "path" and "line" in (attributes.get("class") or ""):
            section["paths"] += 1
        elif tag in ("circle", "rect"):
            section["points"] += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        section = self.sections.get(self._current or "")
        if tag == "section":
            self._current = None
        elif section is not None and tag in ("td", "th") and self._cell is not None:
            assert self._row is not None
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif section is not None and tag == "tr" and self._row is not None:
            (section["headers"] if not section["rows"] and not section["headers"]
             else section["rows"]).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _sections(text: str) -> dict[str, dict[str, Any]]:
    parser = _Sections()
    parser.feed(text)
    return parser.sections


# -- the document ----------------------------------------------------------------------------------


def test_report_is_self_contained(report: SimpleNamespace) -> None:
    html = report.html
    assert not re.search(r"https?://", html), re.findall(r"https?://\S+", html)[:3]
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)  # only in-page links
    assert "default-src 'none'" in html  # the browser would refuse any request anyway
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html


def test_a_section_per_metric_with_label_description_formula_chart(report: SimpleNamespace) -> None:
    sections = _sections(report.html)
    assert list(sections) == support.METRICS
    for name in support.METRICS:
        assert sections[name]["svg"] == 1 and sections[name]["paths"] >= 1, name
    assert "Won revenue" in report.html and "Amount of the deals won in the period." in report.html
    assert "sum(amount) of deals where stage = &#39;won&#39;, by closed_at" in report.html
    assert "The SQL that ran" in report.html and "DATE_TRUNC" in report.html
    assert "Sink test project" in report.html


def test_tables_hold_the_result_formatted(report: SimpleNamespace) -> None:
    from kpispec_builtins.table_sink import format_metric

    sections = _sections(report.html)
    rows = report.result.to_pylist()
    revenue = sections["revenue"]
    assert revenue["headers"] == [["period", "Sales region", "Won revenue", "compare", "change",
                                   "change %", "target", "attainment"]]
    assert len(revenue["rows"]) == len(rows)
    for shown, row in zip(revenue["rows"], rows):
        assert shown[0] == row["period"].isoformat()
        assert shown[1] == (row["region"] if row["region"] is not None else "(none)")
        assert shown[2] == format_metric(row["revenue"], "currency", "$")
        assert shown[6] == format_metric(row["revenue__target"], "currency", "$")
        assert shown[7] == format_metric(row["revenue__attainment"], "percent")


def test_dimension_values_are_escaped(report: SimpleNamespace) -> None:
    assert "<b>x</b>" not in report.html
    assert "Łódź &#34;&lt;b&gt;x&lt;/b&gt;&#34;" in report.html


def test_one_series_per_dimension_value_and_a_target_line(report: SimpleNamespace) -> None:
    series = re.findall(r'data-series="([^"]*)"', report.html.split('data-metric="revenue"')[2]
                        .split("</svg>")[0])
    values = {r["region"] for r in report.result.to_pylist()}
    assert len(series) == len(values) + 1 and series[-1] == "target"
    assert 'class="series series-target"' in report.html


def test_single_period_is_a_bar_chart(tmp_path: Path, report: SimpleNamespace) -> None:
    target = tmp_path / "one.html"
    write_result(report.project, support.METRICS, source=report.url, sinks=[f"html:{target}"],
                 options={"by": ["region"], "start": "2024-03-01", "end": "2024-04-01"})
    html = target.read_text(encoding="utf-8")
    assert html.count('class="chart-bar"') == 3 and '<rect class="bar"' in html
    # revenue has a constant target: a mark over the bars even without --targets
    assert "series-target" in html.split('data-metric="revenue"')[2].split("</svg>")[0]


def test_without_metadata_every_numeric_column_gets_a_section(tmp_path: Path) -> None:
    columns = {"period": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)], "x": [1.0, None], "n": [1, 2]}
    html = html_sink.render_report(columns, SinkContext(), generated=dt.datetime(2024, 1, 1))
    assert list(_sections(html)) == ["x", "n"]


def test_all_null_metric_says_so() -> None:
    metric = SimpleNamespace(name="x", labels={}, format=None, description="")
    html = html_sink.render_report({"period": [dt.date(2024, 1, 1)], "x": [None]},
                                   SinkContext(metrics=(metric,)))
    assert "every value of this metric is NULL" in html and "<svg" not in html


def test_nice_ticks_cover_the_values() -> None:
    assert nice_ticks(0, 97) == [0, 25, 50, 75, 100]
    assert nice_ticks(-3.5, 12)[0] <= -3.5 and nice_ticks(-3.5, 12)[-1] >= 12


# -- in a real browser -----------------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if "CI" in os.environ:
            pytest.fail("chromium is not installed, and CI is set: .ci/run installs it "
                        "(apt-get install -y chromium)", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install -y chromium); with CI set this fails")
    return found


def _browser(chromium: str, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = page.parent / f"profile-{os.getpid()}"
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-extensions", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_report_renders_in_chromium(report: SimpleNamespace) -> None:
    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    page = report.root / "report.html"
    done = _browser(chromium, page, f"--screenshot={shot}", "--window-size=1200,2600",
                    "--hide-scrollbars", "--dump-dom")
    print(f"\nscreenshot of the report: {shot}")
    assert shot.exists(), done.stderr[-2000:]
    assert not _console_messages(done.stderr), _console_messages(done.stderr)
    dom = _sections(done.stdout)
    assert list(dom) == support.METRICS, done.stdout[:500]
    for name in support.METRICS:
        assert dom[name]["svg"] == 1 and dom[name]["paths"] >= 1 and dom[name]["points"] >= 3, name
    # Drawn, not just present: the series colours are on the screenshot.
    colours = _colours(shot)
    for colour in PALETTE[:3]:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert colours.get(rgb, 0) > 50, (colour, sorted(colours.items(), key=lambda c: -c[1])[:8])


def test_report_prints_to_pdf(report: SimpleNamespace) -> None:
    chromium = _chromium()
    pdf = report.root / "report.pdf"
    done = _browser(chromium, report.root / "report.html", f"--print-to-pdf={pdf}",
                    "--no-pdf-header-footer")
    assert pdf.exists(), done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
    assert not _console_messages(done.stderr)


def _colours(png: Path, max_rows: int = 1300) -> dict[tuple[int, ...], int]:
    """Pixel counts by RGB colour of a non-interlaced 8-bit RGB(A) PNG (what Chromium writes),
    over its first ``max_rows`` rows (the first charts: enough, and quicker)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    step = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    counts: dict[tuple[int, ...], int] = {}
    previous = bytearray(stride)
    for y in range(min(height, max_rows)):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa_, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa_ <= pb and pa_ <= pc else up if pb <= pc else corner)) & 0xFF
        for x in range(0, stride, step):
            key = tuple(line[x:x + 3])
            counts[key] = counts.get(key, 0) + 1
        previous = line
    return counts


def test_fiscal_periods_are_labelled_in_chart_and_table(tmp_path: Path,
                                                        report: SimpleNamespace) -> None:
    """A fiscal grain adds a ``period_label`` column (FY2024 Q1…): the report shows those
    labels on the chart's axis and in each table's period column (the loop reading them once
    shadowed the report's text function, and every fiscal report failed in ``close``)."""
    options = {"grain": "fiscal_quarter", "start": "2023-10-01", "end": "2024-04-01"}
    metric = support.METRICS[0]
    result = report.project.run([metric], source=report.url, **options).to_pylist()
    labels = [row["period_label"] for row in result]
    assert labels == ["FY2023 Q4", "FY2024 Q1"]  # fiscal year starting in January
    target = tmp_path / "fiscal.html"
    write_result(report.project, [metric], source=report.url, sinks=[str(target)],
                 options=options)
    html = target.read_text(encoding="utf-8")
    rows = _sections(html)[metric]["rows"]
    assert rows == [[row["period"].isoformat(), row["period_label"], str(row[metric])]
                    for row in result]
    x_labels = re.findall(r'<text class="x-label"[^>]*>([^<]*)</text>', html)
    assert x_labels == labels
