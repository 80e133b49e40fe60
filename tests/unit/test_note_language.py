"""The compiler's notes and each metric's formula follow --lang in the table (its notes on
standard error), the HTML report and the workbook; English stays the default (issue 14)."""

from __future__ import annotations

import html as htmllib
import re
import string
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from kpispec._formula import UNITS, WORDS, _length
from kpispec._i18n import LANGUAGES
from kpispec._notes import NOTES, Note, note_text
from kpispec.cli import main
from kpispec.output import write_result
from openpyxl import load_workbook

from tests.unit import sinks_support as support

METRICS = support.METRICS
OPTIONS = {"by": ["region"], "start": "2024-01-15", "end": "2024-03-10", "targets": True}

POLISH_NOTES = [
    "pierwszy okres (miesiąc, 2024-01-01) jest niepełny: zaczyna się przed --from 2024-01-15, "
    "więc liczone są tylko jego dni od 2024-01-15 (--partial drop go pomija)",
    "ostatni okres (miesiąc, 2024-03-01) jest niepełny: kończy się po --to 2024-03-10, więc "
    "liczone są tylko jego dni przed 2024-03-10 (--partial drop go pomija)",
    "cele są na okres, nie na wartość wymiaru: każdy wiersz okresu dostaje ten sam __target",
    "deals_won, win_rate nie mają celów: brak dla nich kolumny __target",
]
ENGLISH_NOTES = [
    "the first month period (2024-01-01) is partial: it starts before --from 2024-01-15, so "
    "only its days from 2024-01-15 on are counted (--partial drop leaves it out)",
    "the last month period (2024-03-01) is partial: it ends after --to 2024-03-10, so only its "
    "days before 2024-03-10 are counted (--partial drop leaves it out)",
    "targets are per period, not per dimension value: every row of a period gets the same "
    "__target",
    "deals_won, win_rate have no targets: no __target column for them",
]
POLISH_FORMULAS = {
    "deals_won": "liczba w deals gdzie stage = 'won', według closed_at",
    "revenue": "suma(amount) w deals gdzie stage = 'won', według closed_at",
    "win_rate": "(liczba w deals gdzie stage = 'won', według closed_at) * 100 / (liczba w deals "
                "gdzie stage IN ('won', 'lost'), według closed_at)",
}
#: Bits of the English notes and formulas none of the Polish output may contain.
ENGLISH_BITS = ("is partial", "starts before", "are counted", "leaves it out", "targets are per",
                "have no targets", "has no targets", "note:", " of deals", " where ", ", by ",
                "count", "sum(")


@pytest.fixture(scope="module")
def polish(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The sink test project run with --lang pl into a report, a workbook and the table."""
    root = tmp_path_factory.mktemp("polish_notes")
    project, url = support.project_and_warehouse(root)
    report, book = root / "raport.html", root / "kpi.xlsx"
    write_result(project, METRICS, source=url, sinks=[str(report), str(book)], lang="pl",
                 options=OPTIONS)
    table = CliRunner().invoke(main, ["run", *METRICS, "-p", str(project.root), "--source", url,
                                      "--by", "region", "--targets", "--from", "2024-01-15",
                                      "--to", "2024-03-10", "--lang", "pl"])
    assert table.exit_code == 0, table.output
    return SimpleNamespace(project=project, url=url, root=root, table=table,
                           html=htmllib.unescape(report.read_text(encoding="utf-8")),
                           about=[[c.value for c in row]
                                  for row in load_workbook(book)["about"].iter_rows()])


def test_api_notes_stay_english(polish: SimpleNamespace) -> None:
    notes = polish.project.compile(METRICS, **OPTIONS).notes
    assert notes == tuple(ENGLISH_NOTES)
    assert [note_text(n, "pl") for n in notes] == POLISH_NOTES


def test_table_notes_are_polish(polish: SimpleNamespace) -> None:
    assert polish.table.stderr.splitlines() == [f"uwaga: {note}" for note in POLISH_NOTES]
    assert "Region sprzedaży" in polish.table.stdout


def test_report_notes_and_formulas_are_polish(polish: SimpleNamespace) -> None:
    header = polish.html.split("</header>")[0]
    assert re.findall(r"<li>(.*?)</li>", header.split('<ul class="notes">')[1]) == POLISH_NOTES
    for name, formula in POLISH_FORMULAS.items():
        assert f"<span class=\"tag\">Wzór</span> <code>{formula}</code>" in polish.html, name
    body = polish.html.split("<pre")[0]  # the SQL that ran is SQL, in any language
    for english in ENGLISH_BITS + tuple(ENGLISH_NOTES):
        assert english not in body, english


def test_workbook_about_sheet_is_polish(polish: SimpleNamespace) -> None:
    about = polish.about
    assert {row[0]: row[3] for row in about[1:4]} == POLISH_FORMULAS
    start = about.index(["Uwagi", None, None, None])
    assert [row[0] for row in about[start + 1:start + 5]] == POLISH_NOTES
    sql = about.index(["Wykonane zapytanie SQL", None, None, None])
    text = " ".join(str(c) for row in about[:sql] for c in row if c is not None)
    for english in ENGLISH_BITS:
        assert english not in text, english


def test_english_stays_the_default(polish: SimpleNamespace) -> None:
    result = CliRunner().invoke(main, ["run", *METRICS, "-p", str(polish.project.root),
                                       "--source", polish.url, "--by", "region", "--targets",
                                       "--from", "2024-01-15", "--to", "2024-03-10"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"note: {note}" for note in ENGLISH_NOTES]
    report = polish.root / "report.html"
    write_result(polish.project, ["revenue"], source=polish.url, sinks=[str(report)],
                 options=OPTIONS)
    assert ("<code>sum(amount) of deals where stage = 'won', by closed_at</code>"
            in htmllib.unescape(report.read_text(encoding="utf-8")))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", [NOTES, WORDS], ids=["notes", "formula words"])
def test_every_text_in_every_language_with_the_same_values(table: dict[str, dict[str, str]]
                                                           ) -> None:
    for key, entry in table.items():
        assert set(entry) == set(LANGUAGES), key
        for lang, text in entry.items():
            assert _fields(text) == _fields(entry["en"]), (key, lang)


def test_every_note_key_renders_in_every_language() -> None:
    values = {"grain": "fiscal_quarter", "target_grain": "month", "first": "2024-01-01",
              "start": "2024-01-15", "last": "2024-03-01", "end": "2024-03-10", "name": "revenue",
              "names": "a, b", "more": 2, "total": 3, "constant": "300", "count": 1,
              "shown": "2024-01-01"}
    for key in NOTES:
        if key == "note":
            continue
        needed = {k: values[k] for k in _fields(NOTES[key]["en"])}
        note = Note(key, **needed)
        assert str(note) == NOTES[key]["en"].format(**{**needed, "grain": "fiscal quarter"})
        assert "kwartał obrachunkowy" in note.text("pl") or "grain" not in needed
        assert note.text("xx") == str(note)  # a language only labels have: English


def test_lengths_agree_with_their_number() -> None:
    assert [_length(f"{n} day", "pl") for n in (1, 2, 5, 22, 112)] == [
        "1 dzień", "2 dni", "5 dni", "22 dni", "112 dni"]
    assert [_length(f"{n} month", "ru") for n in (1, 3, 11, 21, 24)] == [
        "1 месяц", "3 месяца", "11 месяцев", "21 месяц", "24 месяца"]
    assert [_length(f"{n} day", "ro") for n in (1, 7, 19, 20, 90, 101)] == [
        "1 zi", "7 zile", "19 zile", "20 de zile", "90 de zile", "101 zile"]
    assert _length("3 month", "zh") == "3个月" and _length("2 year", "it") == "2 anni"
    assert _length("3 month", "en") == "3 month"
    assert set(UNITS) == {"day", "week", "month", "year"}
