"""No password ever shows: not in errors, warnings, progress, --debug tracebacks or listings.

Every test puts :data:`support.SECRET` (or a spelling of it) into a URL or a
plugin's error text, makes kpispec talk about it — a failed connection, a failed
query, a malformed URL, a checked catalog, a broken plugin — and greps all the
output for it. The PostgreSQL server trusts local connections, so a password in
the URL is accepted and the run gets as far as the query.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.faults import support

SECRET = support.SECRET
GHOST = """
models:
  - name: ghosts
    table: ghost_table
    time: created_at
    columns: [created_at]
metrics:
  - name: ghost_count
    type: simple
    measure: {model: ghosts, agg: count}
"""


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def assert_no_secret(result: Any, *spellings: str) -> None:
    text = f"{result.stdout}\n{result.stderr}"
    for secret in (SECRET, *spellings):
        assert secret not in text, text
    assert "***" in text, text


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = support.make_project(tmp_path / "project")
    (root / "ghost.yaml").write_text(GHOST, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    yield from support.pg_schema(rows=10)


def test_query_error_progress_and_debug_traceback(project: Path, pg_schema: str) -> None:
    url = support.pg_url(pg_schema, password=SECRET)
    masked = url.replace(SECRET, "***")
    failed = cli("run", "ghost_count", "-p", str(project), "--source", url, "--progress")
    assert failed.exit_code == 2
    assert failed.stderr.splitlines()[-1].startswith(
        f"error: metrics ghost_count: PostgreSQL query failed on {masked}: relation ")
    assert_no_secret(failed)
    debug = cli("--debug", "run", "ghost_count", "-p", str(project), "--source", url)
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert_no_secret(debug)
    shown = cli("run", "revenue", "-p", str(project), "--source", url, *support.RANGE,
                "--progress", "--sink", "csv:-")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("period,revenue")
    assert SECRET not in shown.output


def test_connect_errors(project: Path) -> None:
    for url in (f"postgresql://postgres:{SECRET}@127.0.0.1:1/test",
                f"mysql://root:{SECRET}@127.0.0.1:1/test"):
        result = cli("run", "revenue", "-p", str(project), "--source", url)
        assert result.exit_code == 2
        assert url.replace(SECRET, "***") in result.stderr
        assert_no_secret(result)


def test_wrong_password_on_mariadb(project: Path) -> None:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    url = f"mysql://root:{SECRET}@{support.MY_HOST}:{support.MY_PORT}/test"
    result = cli("run", "revenue", "-p", str(project), "--source", url)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot connect to MySQL at {url.replace(SECRET, '***')}: ")
    assert_no_secret(result)


@pytest.mark.parametrize("url", [
    f"postgresql://me:{SECRET}@db:notaport/crm",          # refused while parsing
    f"postgresq://me:{SECRET}@db/crm",                     # no such source
])
def test_malformed_source_urls(project: Path, url: str) -> None:
    result = cli("run", "revenue", "-p", str(project), "--source", url)
    assert result.exit_code == 1
    assert_no_secret(result)


def test_option_value_quoted_back_by_click(project: Path) -> None:
    """click quotes a rejected option value in its usage error; a URL pasted into the
    wrong option must not show its password there (click 8.5 made the message final,
    so kpispec masks what click prints rather than the message)."""
    result = cli("compile", "revenue", "-p", str(project), "--grain", f"postgresql://me:{SECRET}@db/crm")
    assert result.exit_code == 1
    assert "Invalid value for '--grain'" in result.stderr
    assert_no_secret(result)


def test_percent_encoded_password_with_at_sign(project: Path, pg_schema: str) -> None:
    """``p@ss`` written ``p%40ss``: neither spelling shows, and the host is not mistaken."""
    password = f"p@ss-{SECRET}"
    url = support.pg_url(pg_schema, password=password.replace("@", "%40"))
    result = cli("run", "ghost_count", "-p", str(project), "--source", url)
    assert result.exit_code == 2
    assert f"postgresql://postgres:***@{support.PG_HOST}:{support.PG_PORT}/" in result.stderr
    assert_no_secret(result, password, password.replace("@", "%40"))


def test_validate_with_source(project: Path, pg_schema: str) -> None:
    url = support.pg_url(pg_schema, password=SECRET)
    result = cli("validate", str(project), "--source", url)
    assert result.exit_code == 1  # ghost_table does not exist
    assert "table 'ghost_table' of model 'ghosts' does not exist on postgresql://postgres:***@" \
        in result.stderr
    assert_no_secret(result)
    (project / "ghost.yaml").unlink()
    ok = cli("validate", str(project), "--source", url)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip().endswith(f"checked on {url.replace(SECRET, '***')}")
    assert_no_secret(ok)


def test_write_back_sink_errors(project: Path, tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals AS SELECT 1 AS deal_id, TIMESTAMP '2024-02-01' AS created_at, "
                "2.0 AS amount, 'a' AS label")
    con.close()
    for sink in (f"postgresql://postgres:{SECRET}@127.0.0.1:1/test#kpis",
                 f"postgresq://postgres:{SECRET}@127.0.0.1/test#kpis"):
        result = cli("run", "revenue", "-p", str(project), "--source", f"duckdb:///{path}",
                     *support.RANGE, "--sink", sink)
        assert result.exit_code in (1, 2)
        assert_no_secret(result)


def test_plugins_listing_masks_what_a_broken_plugin_says(tmp_path: Path) -> None:
    commands = [["plugins"], ["plugins", "--json"]]
    done = support.run(["--each", json.dumps(commands)], cwd=tmp_path, faults="plugins:leaky")
    assert done.returncode == 0, done.stderr
    assert "hunter2-secret" not in done.stdout + done.stderr
    # The table's problem list, then the JSON listing (the report of --each follows).
    assert done.stdout.count("postgresql://licensing:***@10.0.0.9/licenses") >= 2


def test_progress_hears_the_masked_url(project: Path, pg_schema: str) -> None:
    """What the progress display shows of the source (``on_step("querying", …)``)."""
    from kpispec.project import load_project

    password = f"p@ss-{SECRET}"
    url = support.pg_url(pg_schema, password=password.replace("@", "%40"))
    steps: list[tuple[str, str]] = []
    loaded = load_project(project, packs=False)
    _, reader, connection = loaded.execute(["revenue"], source=url, start="2024-01-01",
                                           end="2025-01-01", on_step=lambda *s: steps.append(s))
    try:
        reader.read_all()
    finally:
        connection.close()
    assert [name for name, _ in steps] == ["compiled", "querying"]
    assert steps[1][1] == url.replace(password.replace("@", "%40"), "***")


@pytest.mark.parametrize("url", [
    f"postgresql://postgres@127.0.0.1:5432/test?sslpassword={SECRET}&nope=1",
    f"mysql://root@127.0.0.1:3306/test?ssl_password={SECRET}&nope=1",
    f"duckdb:///w.duckdb?api_key={SECRET}",
    f"sqlite:///w.db?secret_token={SECRET}",
])
def test_credential_named_query_parameters(project: Path, url: str) -> None:
    """Issue 23: ``?sslpassword=…`` was printed as written in the "unknown query parameter"
    message. Every parameter whose name holds a credential is masked, by name."""
    result = cli("run", "revenue", "-p", str(project), "--source", url, *support.RANGE)
    assert result.exit_code == 2, result.output
    assert_no_secret(result)
    assert "unknown query parameter" in result.stderr
    name = url.split("?")[1].split("=")[0]
    assert f"?{name}=***" in result.stderr
