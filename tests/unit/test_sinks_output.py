"""Every file sink end to end: ``kpispec run`` → write_result → the file, read back and compared
with the result the query gave; atomicity when the run fails half-way or is interrupted;
JSON Lines, Parquet and xlsx details; the table sink's currency, labels and column blocks."""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kpispec
import pyarrow as pa
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.errors import ExecutionError
from kpispec.extensions import SinkContext
from kpispec.output import write_result
from kpispec_builtins import _files, jsonl_sink, parquet_sink, table_sink, xlsx_sink
from rich.console import Console

from tests.unit import sinks_support as support


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("sinks")
    project_dir = support.make_project(root / "project")
    url = support.make_database(root / "crm.duckdb")
    project = kpispec.load_project(project_dir, packs=False)
    result = project.run(support.METRICS, source=url, by=["region"], **support.RANGE)
    return SimpleNamespace(project=project, project_dir=project_dir, url=url, result=result)


def run(ws: SimpleNamespace, sinks: list[str], **options: Any) -> int:
    return write_result(ws.project, support.METRICS, source=ws.url, sinks=sinks,
                        options={"by": ["region"], **support.RANGE, **options})


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- each output read back equals the result ---------------------------------------------------


def test_csv_json_jsonl_parquet_xlsx_read_back_equal_the_result(workspace: SimpleNamespace,
                                                                 tmp_path: Path) -> None:
    targets = {ext: tmp_path / f"kpis.{ext}" for ext in ("csv", "json", "jsonl", "parquet", "xlsx")}
    assert run(workspace, [str(p) for p in targets.values()]) == workspace.result.num_rows
    expected = support.rows_of(workspace.result)
    schema = workspace.result.schema
    support.assert_same_rows(support.read_csv(targets["csv"].read_text(encoding="utf-8"), schema),
                             expected)
    support.assert_same_rows(support.read_json(targets["json"].read_text(encoding="utf-8"), schema),
                             expected)
    support.assert_same_rows(support.read_jsonl(targets["jsonl"].read_text(encoding="utf-8"),
                                                schema), expected)
    support.assert_same_rows(support.read_parquet(targets["parquet"]), expected)
    # Excel is read by people: a NULL dimension value is a word there, as on the terminal.
    assert any(row["region"] is None for row in expected)
    for_people = [{**row, "region": "(none)" if row["region"] is None else row["region"]}
                  for row in expected]
    support.assert_same_rows(support.read_xlsx(targets["xlsx"]), for_people, ints_as_floats=True)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("target", "name"), [
    ("k.jsonl", "jsonl"), ("k.ndjson", "jsonl"), ("jsonl:-", "jsonl"), ("ndjson:k.txt", "jsonl"),
    ("k.parquet", "parquet"), ("k.pq", "parquet"), ("parquet:k.bin", "parquet"),
    ("k.xlsx", "xlsx"), ("xlsx:k.bin", "xlsx"), ("report.html", "html"), ("r.htm", "html"),
    ("html:-", "html"), ("k.prom", "openmetrics"), ("openmetrics:-", "openmetrics"),
    ("prometheus:-", "openmetrics"), ("postgresql://u@h/db#t", "postgresql_table"),
    ("mysql://u@h/db#t", "mysql_table"), ("mariadb://u@h/db#t", "mysql_table"),
    ("duckdb:///x.duckdb#t", "duckdb_table"),
])
def test_sink_chosen_by_extension_or_scheme(target: str, name: str) -> None:
    from kpispec.output import resolve_sink

    assert resolve_sink(target)[0].name == name


def test_jsonl_to_stdout_and_by_scheme(workspace: SimpleNamespace, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    run(workspace, ["jsonl:-"])
    out = capsys.readouterr().out
    support.assert_same_rows(support.read_jsonl(out, workspace.result.schema),
                             support.rows_of(workspace.result))
    target = tmp_path / "rows.txt"
    run(workspace, [f"ndjson:{target}"])
    assert target.read_text(encoding="utf-8") == out


def test_json_is_an_array_of_objects_with_iso_dates(workspace: SimpleNamespace,
                                                    tmp_path: Path) -> None:
    target = tmp_path / "k.json"
    run(workspace, [str(target)])
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and rows[0]["period"] == "2024-01-01"
    assert list(rows[0]) == workspace.result.schema.names


def test_parquet_keeps_types_and_metric_metadata(workspace: SimpleNamespace, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "k.parquet"
    run(workspace, [f"parquet://{target}"])
    table = pq.read_table(target)
    assert table.schema.field("period").type == pa.date32()
    assert table.schema.remove_metadata().equals(workspace.result.schema.remove_metadata())
    meta = json.loads(table.schema.metadata[b"kpispec"])
    assert [m["name"] for m in meta["metrics"]] == support.METRICS
    assert meta["metrics"][1]["format"] == "currency" and meta["dimensions"] == ["region"]


def test_parquet_and_xlsx_refuse_standard_output(workspace: SimpleNamespace) -> None:
    schema = workspace.result.schema
    for opener, target in ((parquet_sink.open_parquet, "parquet:-"), (xlsx_sink.open_xlsx, "xlsx:-")):
        with pytest.raises(ExecutionError, match="cannot go to standard output: give a file name"):
            opener(target, schema, SinkContext())


def test_xlsx_formats_text_and_about_sheet(workspace: SimpleNamespace, tmp_path: Path) -> None:
    import openpyxl

    target = tmp_path / "k.xlsx"
    run(workspace, [str(target)])
    book = openpyxl.load_workbook(target)
    sheet = book["result"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == workspace.result.schema.names
    column = {name: i for i, name in enumerate(header)}
    body = list(sheet.iter_rows(min_row=2))
    assert body[0][column["revenue"]].number_format == '"$"#,##0.00'
    assert body[0][column["win_rate"]].number_format == '#,##0.0" %"'
    assert body[0][column["period"]].number_format == "yyyy-mm-dd"
    regions = [row[column["region"]] for row in body]
    assert all(cell.data_type == "s" for cell in regions if cell.value is not None)
    about = [[c.value for c in row] for row in book["about"].iter_rows()]
    assert about[0] == ["metric", "label", "description", "formula"]
    assert about[1][:3] == ["deals_won", "Deals won", "Deals closed as won in the period."]
    assert "count of deals where stage = 'won'" in about[1][3]
    assert any(row[0] and "SELECT" in row[0] for row in about)


def test_xlsx_text_is_never_a_formula(tmp_path: Path) -> None:
    import openpyxl

    target = tmp_path / "evil.xlsx"
    table = pa.table({"period": pa.array([dt.date(2024, 1, 1)] * 2),
                      "region": ['=HYPERLINK("http://x","y")', "bell\x07"], "n": [1.5, None]})
    writer = xlsx_sink.open_xlsx(str(target), table.schema, SinkContext(dimensions=("region",)))
    for batch in table.to_batches():
        writer.write(batch)
    writer.close()
    sheet = openpyxl.load_workbook(target)["result"]
    assert sheet["B2"].value == '=HYPERLINK("http://x","y")' and sheet["B2"].data_type == "s"
    assert sheet["B3"].value == "bell" and sheet["C3"].value is None


def test_xlsx_without_openpyxl_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    import builtins

    real = builtins.__import__

    def no_openpyxl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "openpyxl" or name.startswith("openpyxl."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(ExecutionError) as info:
        xlsx_sink.open_xlsx(str(tmp_path / "k.xlsx"), pa.schema([("period", pa.date32())]),
                            SinkContext())
    assert str(info.value) == "the xlsx sink needs openpyxl: pip install 'kpispec[xlsx]'"
    assert not list(tmp_path.iterdir())


# -- atomicity: a failure half-way, or Ctrl-C, keeps every previous output ----------------------


FILE_TARGETS = ("k.csv", "k.json", "k.jsonl", "k.parquet", "k.xlsx", "report.html", "k.prom")




def _failing_execute(project: Any, error: BaseException) -> Callable[..., Any]:
    """project.execute, but the reader raises ``error`` after its first batch."""
    real = project.execute

    def execute(*args: Any, **kwargs: Any) -> Any:
        compiled, reader, connection = real(*args, **kwargs)
        batches = list(reader)
        assert len(batches) >= 1

        def stream() -> Iterator[pa.RecordBatch]:
            yield batches[0].slice(0, 2)
            raise error

        return compiled, pa.RecordBatchReader.from_batches(reader.schema, stream()), connection

    return execute


@pytest.mark.parametrize("error", [ExecutionError("the warehouse went away"), KeyboardInterrupt()],
                         ids=["failure", "ctrl-c"])
def test_failure_half_way_keeps_previous_files(workspace: SimpleNamespace, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               error: BaseException) -> None:
    existing = {name: f"previous {name}\n".encode() for name in FILE_TARGETS}
    for name, content in existing.items():
        (tmp_path / name).write_bytes(content)
    fresh = tmp_path / "new"
    fresh.mkdir()
    warehouse = tmp_path / "wb.duckdb"
    run(workspace, [f"duckdb:///{warehouse}#kpis"])
    before = _duckdb_rows(warehouse)
    project = SimpleNamespace(settings=workspace.project.settings, models=workspace.project.models,
                              execute=_failing_execute(workspace.project, error))
    sinks = ([str(tmp_path / n) for n in FILE_TARGETS] + [str(fresh / n) for n in FILE_TARGETS]
             + [f"duckdb:///{warehouse}#kpis"])
    with pytest.raises(type(error)):
        write_result(project, support.METRICS, source=workspace.url, sinks=sinks,
                     options={"by": ["region"], "start": "2023-01-01", "end": "2024-04-01"})
    for name, content in existing.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert list(fresh.iterdir()) == []  # no partial file where there was none
    assert leftovers(tmp_path) == []
    assert _duckdb_rows(warehouse) == before


def test_a_failing_sink_aborts_the_others(workspace: SimpleNamespace, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keep = tmp_path / "k.csv"
    keep.write_text("previous\n")

    def disk_full(self: Any, batch: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parquet_sink.ParquetFileWriter, "write_batch", disk_full)
    with pytest.raises(ExecutionError, match="No space left on device") as info:
        run(workspace, [str(keep), str(tmp_path / "k.parquet")])
    assert "\n" not in str(info.value) and "k.parquet" in str(info.value)
    assert keep.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.csv"]


def test_failed_rename_keeps_previous_file(workspace: SimpleNamespace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("k.parquet", "k.xlsx", "report.html", "k.jsonl"):
        target = tmp_path / name
        target.write_bytes(b"old")

        def broken_replace(src: str, dst: str) -> None:
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(ExecutionError, match="Input/output error"):
            run(workspace, [str(target)])
        monkeypatch.undo()
        assert target.read_bytes() == b"old"
        assert leftovers(tmp_path) == []


def _duckdb_rows(path: Path) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM kpis ORDER BY ALL").fetchall()
    finally:
        con.close()


# -- the terminal table ----------------------------------------------------------------------------


def test_table_currency_and_dimension_labels(workspace: SimpleNamespace) -> None:
    result = CliRunner().invoke(main, [
        "run", *support.METRICS, "-p", str(workspace.project_dir), "--source", workspace.url,
        "--by", "region", "--from", "2024-01-01", "--to", "2024-04-01", "--lang", "pl"])
    assert result.exit_code == 0, result.output
    header, _, first, *_ = result.stdout.splitlines()
    assert header.split()[:4] == ["okres", "Region", "sprzedaży", "Wygrane"]
    assert first.split() == ["2024-01-01", "EMEA", "1", "$100.00", "50.0", "%"]
    euro = CliRunner().invoke(main, [
        "run", "revenue", "-p", str(workspace.project_dir), "--source", workspace.url,
        "--from", "2024-01-01", "--to", "2024-02-01", "--currency", "zł"])
    assert euro.stdout.splitlines()[2].split() == ["2024-01-01", "100.00", "zł"]


def test_wide_table_on_a_terminal_is_split_into_blocks_that_fit() -> None:
    metrics = tuple(SimpleNamespace(name=f"metric_{i}", labels={"en": f"Metric number {i}"},
                                    format="currency", description="") for i in range(9))
    table = pa.table({"period": pa.array([dt.date(2024, m, 1) for m in (1, 2)]),
                      "region": ["EMEA", "North America"],
                      **{m.name: [1234567.891, None] for m in metrics}})
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    writer = table_sink.open_table("table", table.schema,
                                   SinkContext(metrics=metrics, dimensions=("region",),
                                               stdout=out, currency="€"))
    writer.write(table.to_batches()[0])
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    original = table_sink._console
    table_sink._console = lambda stream, terminal: console  # type: ignore[assignment]
    try:
        writer.close()
    finally:
        table_sink._console = original
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), max(map(len, lines))
    blocks = out.getvalue().split("\n\n")
    assert len(blocks) >= 3
    for block in blocks:  # each block repeats the key columns
        assert "period" in block and "region" in block and "North America" in block
    for i in range(9):
        assert sum(f"Metric number {i}" in b or f"number {i}" in b for b in blocks) >= 1
    assert out.getvalue().count("€1,234,567.89") == 9


def test_column_blocks_keep_narrow_tables_whole() -> None:
    columns = [table_sink._Column("period", "period", "period"),
               table_sink._Column("x", "x", "metric", None, True)]
    assert table_sink.column_blocks(columns, [["2024-01-01", "1"]], 80) == [[0, 1]]


def test_jsonl_writer_round_trip_in_batches(tmp_path: Path) -> None:
    table = pa.table({"period": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1)]),
                      "x": [float("nan"), 0.1 + 0.2]})
    target = tmp_path / "x.jsonl"
    writer = jsonl_sink.open_jsonl(f"jsonl://{target}", table.schema, SinkContext())
    for batch in table.to_batches(max_chunksize=1):
        writer.write(batch)
    writer.close()
    assert target.read_text() == ('{"period": "2024-01-01", "x": null}\n'
                                  '{"period": "2024-02-01", "x": 0.30000000000000004}\n')
    assert _files.strip_scheme(f"jsonl:{target}", "jsonl") == str(target)


def test_new_sink_modules_import_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.jsonl_sink, kpispec_builtins.parquet_sink, kpispec_builtins.xlsx_sink,"
        " kpispec_builtins.html_sink, kpispec_builtins.openmetrics_sink, kpispec_builtins.warehouse_sink;"
        "heavy = {'duckdb', 'pyarrow', 'rich', 'openpyxl', 'jinja2', 'psycopg', 'pymysql'}"
        " & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("name", ["kpispec._formula", "kpispec_builtins._charts",
                                  "kpispec_builtins.table_sink", "kpispec_builtins.xlsx_sink",
                                  "kpispec_builtins.openmetrics_sink",
                                  "kpispec_builtins.warehouse_sink"])
def test_doctests_of_the_sink_modules(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
