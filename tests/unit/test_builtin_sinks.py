"""The built-in sink plugins: table, csv and json (kpispec_builtins.*_sink, _files)."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from kpispec.errors import ExecutionError, InternalError
from kpispec.extensions import SinkContext, SinkType, SinkWriter
from kpispec_builtins import _files, csv_sink, json_sink, table_sink

METRICS = (
    SimpleNamespace(name="close_rate", format="percent", description="Won over created.",
                    labels={"en": "Close rate", "pl": "Współczynnik zamknięcia",
                            "it": "Tasso di chiusura"}),
    SimpleNamespace(name="deals", format=None, description="", labels={}),
)
ROWS: list[dict[str, Any]] = [
    {"period": dt.date(2024, 1, 1), "region": "EMEA", "close_rate": 30.0, "deals": 10},
    {"period": dt.date(2024, 1, 1), "region": None, "close_rate": None, "deals": 0},
    {"period": dt.date(2024, 2, 1), "region": "AMER", "close_rate": 0.1 + 0.2, "deals": 1234567},
    {"period": dt.date(2024, 3, 1), "region": "Łódź, \"PL\"", "close_rate": 1e-17, "deals": -3},
]
SCHEMA = pa.schema([("period", pa.date32()), ("region", pa.string()),
                    ("close_rate", pa.float64()), ("deals", pa.int64())])
FILE_SINKS = {"csv": csv_sink.open_csv, "json": json_sink.open_json}


@pytest.fixture
def result() -> pa.Table:
    return pa.Table.from_pylist(ROWS, schema=SCHEMA)


def context(stdout: io.StringIO | None = None, lang: str = "en") -> SinkContext:
    return SinkContext(metrics=METRICS, dimensions=("region",), lang=lang, stdout=stdout)


def write_all(open_sink: Callable[..., SinkWriter], target: str, table: pa.Table,
              ctx: SinkContext | None = None) -> None:
    """Write ``table`` through a sink in two batches and commit."""
    writer = open_sink(target, table.schema, ctx or context())
    batches = table.combine_chunks().to_batches(max_chunksize=(table.num_rows + 1) // 2)
    assert len(batches) == 2
    for batch in batches:
        writer.write(batch)
    writer.close()


def read_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == SCHEMA.names
    parse: dict[str, Callable[[str], Any]] = {"period": dt.date.fromisoformat, "region": str, "close_rate": float, "deals": int}
    return [{name: (parse[name](v) if v != "" else None) for name, v in zip(header, row)}
            for row in reader]


def read_json(text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(text)
    for row in rows:
        row["period"] = dt.date.fromisoformat(row["period"])
    return rows


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- registration and module hygiene -----------------------------------------------------------


@pytest.mark.parametrize(("module", "name", "schemes", "extensions"), [
    (table_sink, "table", ("table",), ()),
    (csv_sink, "csv", ("csv",), (".csv",)),
    (json_sink, "json", ("json",), (".json",)),
])
def test_register_sinks(module: Any, name: str, schemes: tuple[str, ...],
                        extensions: tuple[str, ...]) -> None:
    registered: list[SinkType] = []
    module.register_sinks(registered.append)
    [sink] = registered
    assert (sink.name, sink.schemes, sink.extensions) == (name, schemes, extensions)
    assert callable(sink.open)


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.table_sink, kpispec_builtins.csv_sink, kpispec_builtins.json_sink;"
        "heavy = {'duckdb', 'pyarrow', 'rich'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- csv ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "csv:", "csv://"])
def test_csv_round_trip(tmp_path: Path, result: pa.Table, prefix: str) -> None:
    target = tmp_path / "kpis.csv"
    write_all(csv_sink.open_csv, prefix + str(target), result)
    text = target.read_text(encoding="utf-8")
    assert read_csv(text) == ROWS
    assert text.splitlines()[1] == "2024-01-01,EMEA,30.0,10"
    assert text.splitlines()[2] == "2024-01-01,,,0"
    assert "0.30000000000000004" in text
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("target", ["-", "csv:-"])
def test_csv_to_stdout(result: pa.Table, target: str) -> None:
    out = io.StringIO()
    write_all(csv_sink.open_csv, target, result, context(out))
    assert read_csv(out.getvalue()) == ROWS


def test_csv_nan_is_null(tmp_path: Path) -> None:
    target = tmp_path / "nan.csv"
    table = pa.table({"period": pa.array([dt.date(2024, 1, 1)], pa.date32()),
                      "close_rate": [float("nan")]})
    write_all(csv_sink.open_csv, str(target), pa.concat_tables([table, table]))
    assert target.read_text() == "period,close_rate\n2024-01-01,\n2024-01-01,\n"


def test_csv_empty_result_has_a_header(tmp_path: Path, result: pa.Table) -> None:
    target = tmp_path / "empty.csv"
    writer = csv_sink.open_csv(str(target), result.schema, context())
    writer.close()
    assert target.read_text() == "period,region,close_rate,deals\n"


# -- json --------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "json:", "json://"])
def test_json_round_trip(tmp_path: Path, result: pa.Table, prefix: str) -> None:
    target = tmp_path / "kpis.json"
    write_all(json_sink.open_json, prefix + str(target), result)
    text = target.read_text(encoding="utf-8")
    assert read_json(text) == ROWS
    assert list(json.loads(text)[0]) == SCHEMA.names  # keys in column order
    assert '"region": null' in text and '"close_rate": null' in text
    assert leftovers(tmp_path) == []


def test_json_to_stdout(result: pa.Table) -> None:
    out = io.StringIO()
    write_all(json_sink.open_json, "-", result, context(out))
    assert read_json(out.getvalue()) == ROWS


def test_json_never_emits_nan(tmp_path: Path) -> None:
    target = tmp_path / "nan.json"
    table = pa.table({"x": [float("nan"), float("inf"), 1.5, None]})
    write_all(json_sink.open_json, str(target), table)
    text = target.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == [{"x": None}, {"x": None}, {"x": 1.5}, {"x": None}]


def test_json_empty_result_is_an_empty_array(tmp_path: Path, result: pa.Table) -> None:
    target = tmp_path / "empty.json"
    writer = json_sink.open_json(str(target), result.schema, context())
    writer.close()
    assert json.loads(target.read_text()) == []


# -- atomic files (both file sinks) ------------------------------------------------------------


@pytest.fixture(params=sorted(FILE_SINKS))
def file_sink(request: pytest.FixtureRequest) -> tuple[str, Callable[..., SinkWriter]]:
    return request.param, FILE_SINKS[request.param]


OLD = b"old contents\r\nkept byte for byte\n"


def test_abort_leaves_existing_file_untouched(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"kpis.{ext}"
    target.write_bytes(OLD)
    writer = open_sink(str(target), result.schema, context())
    for batch in result.to_batches(max_chunksize=2):
        writer.write(batch)
    assert leftovers(tmp_path)  # the output so far lives in a temporary file
    writer.abort()
    writer.abort()  # harmless
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_failure_half_way_leaves_existing_file_untouched(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"kpis.{ext}"
    target.write_bytes(OLD)
    disk = DiskFullAfter(monkeypatch)
    writer = open_sink(str(target), result.schema, context())
    first, second = result.to_batches(max_chunksize=2)
    writer.write(first)
    disk.full = True
    with pytest.raises(ExecutionError, match="No space left on device") as info:
        writer.write(second)
    assert str(target) in str(info.value)
    writer.abort()  # what the core does after a failed write
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_wrong_batch_leaves_existing_file_untouched(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"kpis.{ext}"
    target.write_bytes(OLD)
    writer = open_sink(str(target), result.schema, context())
    writer.write(result.to_batches(max_chunksize=2)[0])
    with pytest.raises(InternalError, match="expected"):
        writer.write(pa.record_batch({"other": [1]}))
    writer.abort()
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_failed_commit_leaves_existing_file_untouched(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"kpis.{ext}"
    target.write_bytes(OLD)
    writer = open_sink(str(target), result.schema, context())
    writer.write(result.to_batches()[0])

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ExecutionError, match="Input/output error"):
        writer.close()
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_replace_keeps_mode_of_existing_file(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"kpis.{ext}"
    target.write_bytes(OLD)
    target.chmod(0o640)
    write_all(open_sink, str(target), result)
    assert target.read_bytes() != OLD
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_umask_mode_not_0600(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / f"new.{ext}"
    old_umask = os.umask(0o022)
    try:
        write_all(open_sink, str(target), result)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_missing_directory_fails_at_open(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = tmp_path / "no" / "such" / f"kpis.{ext}"
    with pytest.raises(ExecutionError, match="does not exist") as info:
        open_sink(f"{ext}:{target}", result.schema, context())
    assert str(target) in str(info.value)
    assert not (tmp_path / "no").exists()


def test_directory_target_fails_at_open(
    tmp_path: Path, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    _, open_sink = file_sink
    with pytest.raises(ExecutionError, match="is a directory"):
        open_sink(str(tmp_path), result.schema, context())


def test_stdout_abort_prints_nothing(
    result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    _, open_sink = file_sink
    out = io.StringIO()
    writer = open_sink("-", result.schema, context(out))
    writer.write(result.to_batches()[0])
    writer.abort()
    assert out.getvalue() == ""


class DiskFullAfter:
    """Makes the sinks' temporary files raise ENOSPC on write once ``full`` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        real = tempfile.NamedTemporaryFile

        def named_temporary_file(*args: Any, **kwargs: Any) -> Any:
            return _FailingFile(real(*args, **kwargs), self)

        monkeypatch.setattr(tempfile, "NamedTemporaryFile", named_temporary_file)


class _FailingFile:
    def __init__(self, file: Any, disk: DiskFullAfter) -> None:
        self._file = file
        self._disk = disk

    def write(self, text: str) -> int:
        if self._disk.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self._file.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


# -- table -------------------------------------------------------------------------------------


def render(table: pa.Table, lang: str = "en", metrics: tuple[Any, ...] = METRICS) -> str:
    out = io.StringIO()
    ctx = SinkContext(metrics=metrics, dimensions=("region",), lang=lang, stdout=out)
    write_all(table_sink.open_table, "table", table, ctx)
    return out.getvalue()


def test_table_formats_values(result: pa.Table) -> None:
    text = render(result)
    lines = text.splitlines()
    assert lines[0].split() == ["period", "region", "Close", "rate", "deals"]
    assert lines[2].split() == ["2024-01-01", "EMEA", "30.0", "%", "10"]
    assert lines[3].split() == ["2024-01-01", "(none)", "—", "0"]
    assert lines[4].split() == ["2024-02-01", "AMER", "0.3", "%", "1,234,567"]
    assert lines[5].split() == ["2024-03-01", "Łódź,", '"PL"', "0.0", "%", "-3"]
    assert len(lines) == 6


@pytest.mark.parametrize(("lang", "header"), [
    ("pl", "Współczynnik zamknięcia"), ("it", "Tasso di chiusura"), ("de", "Close rate"),
])
def test_table_labels_in_language(result: pa.Table, lang: str, header: str) -> None:
    assert header in render(result, lang=lang).splitlines()[0]


def test_table_comparison_columns(result: pa.Table) -> None:
    table = result.append_column("close_rate__compare", pa.array([25.0, None, 1.0, 2.0])) \
        .append_column("close_rate__change", pa.array([5.0, None, -0.7, -2.0])) \
        .append_column("close_rate__change_pct", pa.array([20.0, None, -70.0, -100.0]))
    header, _, first, second, third, *_ = render(table, lang="pl").splitlines()
    # Headers kpispec writes itself are in the run's language too.
    assert "Współczynnik zamknięcia (porównanie)" in header
    assert "Współczynnik zamknięcia (zmiana)" in header
    assert "Współczynnik zamknięcia (zmiana %)" in header
    # A percentage's change is in percentage points, signed; its relative change in %.
    assert first.split()[-6:] == ["25.0", "%", "+5.0", "pp", "20.0", "%"]
    assert third.split()[-6:] == ["1.0", "%", "-0.7", "pp", "-70.0", "%"]
    assert second.split()[-3:] == ["—", "—", "—"]


def test_table_without_metric_metadata(result: pa.Table) -> None:
    text = render(result, metrics=())
    assert "close_rate" in text.splitlines()[0]
    assert "1,234,567" in text and "30" in text


def test_table_piped_output_is_plain_and_never_truncated(result: pa.Table) -> None:
    long_region = "North-Eastern Europe and the Baltic states sales region " * 8
    table = pa.Table.from_pylist(
        [{**ROWS[0], "region": long_region}, ROWS[1]], schema=SCHEMA)
    text = render(table)
    assert long_region.strip() in text
    assert "\x1b" not in text  # no colour codes
    assert all(line == line.rstrip() for line in text.splitlines())


def test_table_empty_result(result: pa.Table) -> None:
    out = io.StringIO()
    writer = table_sink.open_table("table", result.schema, context(out))
    writer.write(pa.RecordBatch.from_pylist([], schema=SCHEMA))
    writer.close()
    assert out.getvalue() == "(no rows)\n"


def test_table_abort_prints_nothing(result: pa.Table) -> None:
    out = io.StringIO()
    writer = table_sink.open_table("table", result.schema, context(out))
    writer.write(result.to_batches()[0])
    writer.abort()
    writer.close()
    assert out.getvalue() == ""


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (30.0, "percent", "30.0 %"),
    (12.345, "percent", "12.3 %"),
    (1234.5, "currency", "1,234.50"),
    (1234, "currency", "1,234.00"),
    (12.34, "days", "12.3"),
    (2.0, "hours", "2.0"),
    (1.25, "years", "1.2"),
    (1234567, "number", "1,234,567"),
    (1234.5678, "number", "1,234.57"),
    (1234.5, None, "1,234.5"),
    (12.0, None, "12"),
    (-0.0001, "percent", "0.0 %"),
    (-0.001, None, "0"),
    (-2.5, "number", "-2.5"),
    (None, "percent", "—"),
    (None, None, "—"),
])
def test_format_metric(value: Any, fmt: str | None, shown: str) -> None:
    assert table_sink.format_metric(value, fmt) == shown


def test_metric_label_fallbacks() -> None:
    metric = SimpleNamespace(name="nps", labels={})
    assert table_sink.metric_label(metric, "pl") == "nps"
    assert table_sink.metric_label(METRICS[0], "pl") == "Współczynnik zamknięcia"
    assert table_sink.metric_label(METRICS[0], "fr") == "Close rate"


@pytest.mark.parametrize(("target", "path"), [
    ("kpis.csv", "kpis.csv"),
    ("csv:kpis.csv", "kpis.csv"),
    ("CSV://out/kpis.csv", "out/kpis.csv"),
    ("csv:///tmp/kpis.csv", "/tmp/kpis.csv"),
    ("csv:-", "-"),
    ("json:kpis.csv", "json:kpis.csv"),  # another sink's scheme is left alone
])
def test_strip_scheme(target: str, path: str) -> None:
    assert _files.strip_scheme(target, "csv") == path


@pytest.mark.parametrize("separator", [None, ":", "://"])
def test_empty_target_fails_at_open(
    separator: str | None, result: pa.Table, file_sink: tuple[str, Callable[..., SinkWriter]]
) -> None:
    ext, open_sink = file_sink
    target = "" if separator is None else ext + separator
    with pytest.raises(ExecutionError, match="no file name given"):
        open_sink(target, result.schema, context())
