"""What the table, report and workbook write themselves is in the run's --lang; a percentage's
change is in percentage points; a NULL dimension value is a word; an unknown --lang is refused."""

from __future__ import annotations

import datetime as dt
import html as htmllib
from pathlib import Path
from types import SimpleNamespace

import kpispec
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.extensions import SinkContext
from kpispec.output import write_result
from kpispec_builtins import html_sink

from tests.unit import sinks_support as support

OPTIONS = {"by": ["region"], "start": "2024-01-01", "end": "2024-04-01",
           "compare": "previous_period", "targets": True}


@pytest.fixture(scope="module")
def polish(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The sink test project run with --lang pl into an HTML report and a workbook."""
    root = tmp_path_factory.mktemp("polish")
    project_dir = support.make_project(root / "project")
    url = support.make_database(root / "crm.duckdb")
    project = kpispec.load_project(project_dir, packs=False)
    report, book = root / "raport.html", root / "kpi.xlsx"
    write_result(project, support.METRICS, source=url, sinks=[str(report), str(book)],
                 lang="pl", options=OPTIONS)
    return SimpleNamespace(html=report.read_text(encoding="utf-8"), book=book, url=url,
                           result=project.run(support.METRICS, source=url, **OPTIONS),
                           project_dir=project_dir, root=root)


def test_report_words_are_polish(polish: SimpleNamespace) -> None:
    text = htmllib.unescape(polish.html)
    for polish_words in ("<dt>Szczegółowość</dt><dd>miesiąc</dd>", "<th>okres</th>", "<dt>Zakres</dt>", "bez tej daty",
                         "<dt>W porównaniu z</dt><dd>poprzedni okres</dd>", "<dt>Źródło</dt>",
                         "<dt>Wiersze</dt>", "<dt>Wygenerowano</dt>", "Wzór",
                         "Wykonane zapytanie SQL", "Wygenerowane przez kpispec",
                         "<th class=\"num\">porównanie</th>", "<th class=\"num\">zmiana</th>",
                         "<th class=\"num\">zmiana %</th>", "<th class=\"num\">cel</th>",
                         "<th class=\"num\">realizacja</th>", ">sty 2024</text>",
                         ">mar 2024</text>"):
        assert polish_words in text, polish_words
    for english in ("Grain", "Range", "Compared with", "Generated", "Formula",
                    "The SQL that ran", "Made by kpispec", ">change<", ">compare<", "∅",
                    "Jan 2024"):
        assert english not in text, english


def test_report_title_is_in_the_language_without_a_project_name() -> None:
    html = html_sink.render_report({"period": [dt.date(2024, 1, 1)], "n": [1]},
                                   SinkContext(lang="pl"))
    assert "<title>Raport kpispec</title>" in html and "kpispec report" not in html
    assert "<title>kpispec report</title>" in html_sink.render_report(
        {"period": [dt.date(2024, 1, 1)], "n": [1]}, SinkContext())


def test_report_change_of_a_percentage_is_in_points(polish: SimpleNamespace) -> None:
    text = htmllib.unescape(polish.html)
    rows = polish.result.to_pylist()
    changes = [r["win_rate__change"] for r in rows if r["win_rate__change"] is not None]
    assert changes and any(c < 0 for c in changes)
    for row in rows:
        value, before = row["win_rate"], row["win_rate__compare"]
        if value is None or before is None:
            continue
        points = value - before  # computed here, from the value and the comparison
        assert f"<td class=\"num\">{points:+.1f} pp</td>" in text
    assert " pp</td>" not in text.split('data-metric="win_rate"')[0]  # only win_rate is a %


def test_report_and_table_show_null_dimension_as_a_word(polish: SimpleNamespace) -> None:
    assert any(r["region"] is None for r in polish.result.to_pylist())
    assert "<td>(brak)</td>" in polish.html
    result = CliRunner().invoke(main, ["run", "deals_won", "-p", str(polish.project_dir),
                                       "--source", polish.url, "--by", "region",
                                       "--from", "2024-03-01", "--to", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert ["2024-03-01", "(none)", "1"] in [line.split() for line in result.stdout.splitlines()]


def test_workbook_formats_every_column_and_speaks_polish(polish: SimpleNamespace) -> None:
    import openpyxl

    book = openpyxl.load_workbook(polish.book)
    sheet = book["result"]
    header = [c.value for c in sheet[1]]
    body = list(sheet.iter_rows(min_row=2))
    formats = {name: {c.number_format for c in column if c.value is not None}
               for name, column in zip(header, zip(*body))}
    assert formats["win_rate__change"] == {'+#,##0.0" pp";-#,##0.0" pp";0.0" pp"'}
    assert formats["win_rate__change_pct"] == {'#,##0.0" %"'}
    assert formats["revenue__change_pct"] == {'#,##0.0" %"'}
    assert formats["deals_won__change"] == {"#,##0"}
    assert formats["region"] == {"@"}
    assert all(f and "General" not in f for fs in formats.values() for f in fs), formats
    regions = [row[header.index("region")].value for row in body]
    assert "(brak)" in regions and None not in regions
    about = [[c.value for c in row] for row in book["about"].iter_rows()]
    assert about[0] == ["metryka", "etykieta", "opis", "wzór"]
    keys = [row[0] for row in about]
    facts = ["szczegółowość", "od", "do (bez tej daty)", "wymiary", "porównanie", "źródło", "wiersze"]
    assert [k for k in keys if k in facts] == facts
    assert "wykonane zapytanie sql" not in keys and "Wykonane zapytanie SQL" in keys


def test_unknown_language_is_refused_before_running(polish: SimpleNamespace) -> None:
    out = polish.root / "never.csv"
    result = CliRunner().invoke(main, ["run", "deals_won", "-p", str(polish.project_dir),
                                       "--source", polish.url, "--lang", "xx", "--sink", str(out)])
    assert result.exit_code == 1
    assert result.output == ("error: --lang 'xx': no label or report text is written in that "
                             "language. Choose one of en, ro, pl, it, zh, ru\n")
    assert not out.exists()
    listed = CliRunner().invoke(main, ["list", "-p", str(polish.project_dir), "--lang", "pol"])
    assert listed.exit_code == 1
    assert "--lang 'pol': no label or report text is written in that language. Did you mean " \
        "'pl'? Choose one of en, ro, pl, it, zh, ru" in listed.output


def test_a_language_of_the_projects_labels_is_accepted(tmp_path: Path) -> None:
    project_dir = support.make_project(tmp_path / "project")
    specs = project_dir / "specs.yaml"
    specs.write_text(specs.read_text(encoding="utf-8").replace(
        "{en: Deals won, pl: Wygrane transakcje}", "{en: Deals won, de: Gewonnene Deals}"),
        encoding="utf-8")
    result = CliRunner().invoke(main, ["list", "-p", str(project_dir), "--lang", "de"])
    assert result.exit_code == 0, result.output
    assert "Gewonnene Deals" in result.output
    other = CliRunner().invoke(main, ["list", "-p", str(project_dir), "--lang", "fr"])
    assert "Choose one of en, ro, pl, it, zh, ru, de" in other.output
