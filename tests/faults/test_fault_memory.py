"""A snippet cannot exhaust memory, and --timeout / Ctrl-C stop a query busy in one operator
(issue 23, finding 1).

``kpispec run won_revenue --where "rpad(region, 1000000000, 'xy') <> ''" --timeout 5``
grew to 23.6 GB, ignored ``--timeout 5`` and Ctrl-C (DuckDB checks for an interrupt
between vectors, never inside one call of a scalar function) and was killed by the
kernel. Every run here is a subprocess under ``RLIMIT_AS`` (so a regression fails with
an out-of-memory error instead of taking the machine down) and a wall-clock timeout.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import duckdb
import pytest

from tests.faults import support

#: The address space every kpispec subprocess here gets: a regression hits it at once.
CAP = 3 * 2**30
BOMBS = [
    ("rpad(label, 1000000000, 'xy') <> ''",
     "error: --where: RPAD(label, 1000000000, ...) pads to 1000000000 characters; the limit is "
     "10000 in \"rpad(label, 1000000000, 'xy') <> ''\". The text an expression builds is "
     "bounded, so that it fits in memory (see docs/security.md)"),
    ("lpad(label, 2147483647, 'x') <> ''", "LPAD(label, 2147483647, ...) pads to 2147483647"),
    ("lpad(label, deal_id, 'x') <> ''",
     "the length LPAD pads to must be a whole number written in the snippet (at most 10,000), "
     "not 'deal_id'"),
    ("replace(label, 'a', label || label) <> ''",
     "the replacement of REPLACE must be a string written in the snippet"),
    ("replace(replace(replace(label, 'd', 'dddddddddddddddddddd'), 'd', "
     "'dddddddddddddddddddd'), 'd', 'dddddddddddddddddddd') <> ''",
     "this expression can build text 8,000 times longer than the values it reads"),
]


def run_args(root: Path, *args: str) -> list[str]:
    return ["run", "revenue", "-p", str(root), "--source", f"duckdb:///{root / 'w.duckdb'}",
            *support.RANGE, *args]


def finish(root: Path, *args: str) -> tuple[int, str, str]:
    done = support.run(run_args(root, *args), cwd=root, address_space=CAP)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two million deals: long work for any string function over every label."""
    root = support.make_project(tmp_path_factory.mktemp("memory") / "project")
    con = duckdb.connect(str(root / "w.duckdb"))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-01-01' + "
                "INTERVAL (range % 366) DAY AS created_at, 1.0 AS amount, 'deal ' || range AS "
                "label FROM range(2000000)")
    con.close()
    return root


@pytest.mark.parametrize(("where", "message"), BOMBS)
def test_text_bombs_are_refused_before_anything_runs(project: Path, where: str,
                                                     message: str) -> None:
    started = time.monotonic()
    code, _, err = finish(project, "--where", where, "--timeout", "5")
    assert code == 1, err
    assert err.startswith("error: --where: ") and message in err, err
    assert len(err.splitlines()) == 1, err
    assert time.monotonic() - started < 30


def test_a_bomb_in_a_model_sql_is_refused_at_validation(tmp_path: Path) -> None:
    root = support.make_project(tmp_path / "p")
    (root / "bomb.yaml").write_text(
        'models:\n  - name: padded\n    time: created_at\n'
        '    sql: "SELECT created_at, rpad(label, 1000000000, \'xy\') AS label FROM deals"\n',
        encoding="utf-8")
    duckdb.connect(str(root / "w.duckdb")).close()
    code, _, err = finish(root)
    assert code == 1, err
    assert "bomb.yaml:4:10: models[0].sql: RPAD(label, 1000000000, ...) pads to 1000000000 " \
           "characters; the limit is 10000" in err, err


def test_the_longest_pad_allowed_still_stops_at_the_timeout(project: Path) -> None:
    """10,000 characters for each of 2,000,000 labels: far longer than 3 s of work, stopped
    at the timeout (between two vectors), well inside the memory cap."""
    started = time.monotonic()
    code, _, err = finish(project, "--where", "rpad(label, 10000, 'x') LIKE '%zz%'",
                          "--timeout", "3")
    elapsed = time.monotonic() - started
    assert code == 2, err
    assert "query timed out after 3 s" in err, err
    assert elapsed < 20, elapsed


def test_ctrl_c_stops_it_too(project: Path) -> None:
    process = support.start(run_args(project, "--where", "rpad(label, 10000, 'x') LIKE '%zz%'"),
                            cwd=project, address_space=CAP)
    time.sleep(3)
    assert process.poll() is None, process.communicate()
    code, _, err, took = support.stop_with(process, signal.SIGINT, within=20)
    assert (code, err.strip()) == (130, "error: interrupted"), err
    assert took < 10, took


def test_duckdb_memory_limit_is_set_and_configurable(project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from kpispec.project import parse_source_url
    from kpispec_builtins import duckdb_source

    def setting(url: str) -> str:
        con = duckdb_source.connect(parse_source_url(url))
        try:
            return str(con.duckdb.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        finally:
            con.close()

    monkeypatch.delenv("KPISPEC_DUCKDB_MEMORY_LIMIT", raising=False)
    url = f"duckdb:///{project / 'w.duckdb'}"
    import os

    half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 / 2**30
    default = setting(url)
    assert default.endswith("GiB") and abs(float(default.split()[0]) - half) < 0.2, default
    assert setting(url + "?memory_limit=300MB") == "286.1 MiB"
    assert setting("duckdb://?memory_limit=1GB") == "953.6 MiB"
    monkeypatch.setenv("KPISPEC_DUCKDB_MEMORY_LIMIT", "500MB")
    assert setting(url) == "476.8 MiB"
    assert setting(url + "?memory_limit=300MB") == "286.1 MiB"
    done = support.run(["run", "revenue", "-p", str(project), "--source",
                        url + "?memory_limit=lots", *support.RANGE], cwd=project,
                       address_space=CAP)
    code, err = done.returncode, done.stderr
    assert code == 2
    assert err == (f"error: {url}?memory_limit=lots: ?memory_limit='lots' is not a size; "
                   "write e.g. 512MB or 2GB\n")
