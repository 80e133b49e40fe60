"""Metric packs: the project of an empty directory; part of a project with its own specs only
when kpispec.yaml lists them; refined only explicitly (``refine: <pack>.<model>``, with
``leave_out`` for what the table lacks); their snippets always read in the pack's dialect; pack
items that do not fit the project left out with one warning each instead of breaking it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import kpispec
import pytest
from click.testing import CliRunner
from kpispec import hookimpl, plugins
from kpispec.cli import main

PACK = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, closed_at, stage, amount, owner_id]
    dimensions:
      - {name: rep, expr: owner_id}
      - stage
metrics:
  - name: won_amount
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: deals_created
    type: simple
    measure: {model: deals, agg: count}
  - name: avg_won
    type: derived
    expr: won_amount / deals_created
  - name: cycle_seconds
    type: simple
    measure: {model: deals, agg: sum, expr: "date_diff('second', created_at, closed_at)", time: closed_at}
"""

#: Three of our deals in January 2024 (deal_id, created_at, closed_at, stage, amount, owner_id).
DEALS = [(1, "2024-01-02 00:00:00", "2024-01-20 00:00:00", "won", 100.0, 7),
         (2, "2024-01-03 00:00:00", "2024-01-25 00:00:00", "lost", 900.0, 7),
         (3, "2024-01-05 00:00:00", "2024-01-28 00:00:00", "won", 50.0, 8)]
JANUARY = dt.date(2024, 1, 1)


class _Pack:
    def __init__(self, path: Path, **options: str) -> None:
        self.path = path
        self.options = options

    @hookimpl
    def register_spec_paths(self, register: Callable[..., None]) -> None:
        register(self.path, name="sales_pack", **self.options)


def _register(tmp_path: Path, text: str, name: str = "sales_pack_plugin", **options: str) -> None:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "sales.yaml").write_text(text)
    plugins.register_plugin(_Pack(directory, **options), name)


@pytest.fixture
def pack(fresh_plugins: None, tmp_path: Path) -> Iterator[None]:
    _register(tmp_path, PACK)
    try:
        yield
    finally:
        plugins.unregister_plugin("sales_pack_plugin")


def _deals_db(tmp_path: Path, table: str = "deals") -> str:
    db = tmp_path / f"{table}.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE {table} (deal_id INT, created_at TIMESTAMP, closed_at TIMESTAMP, "
                "stage VARCHAR, amount DOUBLE, owner_id INT)")
    con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)", DEALS)
    con.close()
    return f"duckdb:///{db}"


def _seconds(row: tuple[object, ...]) -> float:
    return (dt.datetime.fromisoformat(str(row[2])) - dt.datetime.fromisoformat(str(row[1]))).total_seconds()


# -- which packs a project includes ------------------------------------------------------


def test_packs_are_the_project_of_a_directory_without_specs(
        pack: None, make_project: Callable[..., Path]) -> None:
    for files in ({}, {"kpispec.yaml": "dialect: postgres\n"}):
        project = kpispec.load_project(make_project(files, f"d{len(files)}"))
        assert set(project.metrics) == {"won_amount", "deals_created", "avg_won", "cycle_seconds"}
        assert {m.origin for m in project.metrics.values()} == {"sales_pack"}


def test_a_project_with_its_own_specs_includes_a_pack_only_when_listed(
        pack: None, make_project: Callable[..., Path], tmp_path: Path) -> None:
    ours = """
models:
  - name: orders
    table: deals
    primary_key: deal_id
    time: created_at
metrics:
  - name: orders_placed
    type: simple
    measure: {model: orders, agg: count}
"""
    alone = kpispec.load_project(make_project({"ours.yaml": ours}, "alone"))
    assert set(alone.metrics) == {"orders_placed"} and set(alone.models) == {"orders"}
    listed = kpispec.load_project(make_project({"ours.yaml": ours,
                                                "kpispec.yaml": "packs: [sales_pack]\n"}, "listed"))
    assert set(listed.metrics) == {"orders_placed", "won_amount", "deals_created", "avg_won",
                                   "cycle_seconds"}
    rows = listed.run(["orders_placed", "won_amount"], source=_deals_db(tmp_path)).to_pylist()
    assert rows == [{"period": JANUARY, "orders_placed": 3,
                     "won_amount": sum(r[4] for r in DEALS if r[3] == "won")}]


def test_pack_settings_old_mapping_and_empty_list(pack: None, make_project: Callable[..., Path]) -> None:
    off = make_project({"kpispec.yaml": "packs: {sales_pack: false}\n"}, "off")
    assert kpispec.load_project(off).metrics == {}
    none = make_project({"kpispec.yaml": "packs: []\n"}, "none")
    assert kpispec.load_project(none).metrics == {}
    on = make_project({"kpispec.yaml": "packs: {sales_pack: true}\n",
                       "m.yaml": "models: [{name: x, table: x, time: t}]\n"}, "on")
    assert "won_amount" in kpispec.load_project(on).metrics


def test_a_pack_that_is_not_installed_is_a_located_error(
        pack: None, make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "version: 1\npacks: [sales_pak]\n"})
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(root)
    assert str(info.value).splitlines()[0].endswith(
        "kpispec.yaml:2:9: packs[0]: pack 'sales_pak' is not installed. Did you mean 'sales_pack'?")


# -- refining a pack's model ------------------------------------------------------------


def test_project_refines_pack_model_with_own_table_and_column_names(
        pack: None, make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"kpispec.yaml": "packs: [sales_pack]\n", "ours.yaml": """
models:
  - name: deals
    refine: sales_pack.deals           # the pack's model, on our table and columns
    table: crm_opportunities
    columns:
      - {name: amount, expr: value_eur}
      - {name: stage, expr: "CASE WHEN is_won THEN 'won' ELSE 'other' END"}
      - salesperson
    dimensions:
      - {name: rep, expr: salesperson}
"""})
    db = tmp_path / "ours.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE crm_opportunities (deal_id INT, created_at TIMESTAMP, closed_at TIMESTAMP, "
                "is_won BOOLEAN, value_eur DOUBLE, owner_id INT, salesperson VARCHAR)")
    con.executemany("INSERT INTO crm_opportunities VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, "2024-01-02", "2024-01-20", True, 100.0, 7, "ana"),
        (2, "2024-01-03", "2024-01-25", False, 900.0, 7, "ana"),
        (3, "2024-01-05", "2024-01-28", True, 50.0, 8, "bo"),
    ])
    con.close()
    project = kpispec.load_project(root)
    assert project.models["deals"].origin == "project"
    assert project.overrides["deals"] == ["sales_pack"]
    rows = project.run(["won_amount", "avg_won"], source=f"duckdb:///{db}", by=["rep"]).to_pylist()
    assert rows == [
        {"period": JANUARY, "rep": "ana", "won_amount": 100.0, "avg_won": 50.0},
        {"period": JANUARY, "rep": "bo", "won_amount": 50.0, "avg_won": 50.0},
    ]
    sql = project.compile(["won_amount"], by=["rep"]).sql
    assert "FROM crm_opportunities AS deals" in sql and "SUM(deals.value_eur)" in sql


@pytest.mark.parametrize(("listed", "expected"), [
    ("packs: [sales_pack]\n", "ours.yaml:3:11: models[0].name: model 'deals' is named like the "
     "model of pack 'sales_pack' (sales_pack:sales.yaml:3). Write refine: sales_pack.deals to "
     "refine the pack's model, replace: true to use yours instead, or give yours another name"),
    ("", None),  # the pack is not part of this project: the name is simply ours
])
def test_a_model_named_like_a_pack_model_is_never_merged_silently(
        pack: None, make_project: Callable[..., Path], tmp_path: Path, listed: str,
        expected: str | None) -> None:
    root = make_project({"kpispec.yaml": listed, "ours.yaml": """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, amount]
metrics:
  - name: booked
    type: simple
    measure: {model: deals, agg: sum, expr: amount}
"""})
    if expected is not None:
        with pytest.raises(kpispec.SpecErrors) as info:
            kpispec.load_project(root)
        assert str(info.value).splitlines()[0] == f"{root.name}/{expected}" or \
            str(info.value).splitlines()[0].endswith(expected), str(info.value)
        return
    project = kpispec.load_project(root)
    assert project.models["deals"].columns == ("deal_id", "created_at", "amount")
    assert project.models["deals"].dimensions == {}
    assert project.run(["booked"], source=_deals_db(tmp_path)).to_pylist() == [
        {"period": JANUARY, "booked": sum(r[4] for r in DEALS)}]


@pytest.mark.parametrize(("model", "settings", "message"), [
    ("{name: deals, refine: sales_pack.deals}", "",
     "models[0].refine: refines 'sales_pack.deals', but pack 'sales_pack' is not part of this "
     "project. List it in kpispec.yaml: packs: [sales_pack]"),
    ("{name: deals, refine: sales_pak.deals}", "packs: [sales_pack]\n",
     "models[0].refine: refines 'sales_pak.deals', but pack 'sales_pak' is not installed. "
     "Did you mean 'sales_pack'?"),
    ("{name: offers, refine: sales_pack.deals, table: t}", "packs: [sales_pack]\n",
     "models[0].refine: refines 'sales_pack.deals' but is named 'offers'. A refinement keeps "
     "the pack model's name: name it 'deals'"),
    ("{name: leads, refine: sales_pack.leads}", "packs: [sales_pack]\n",
     "models[0].refine: pack 'sales_pack' has no model 'leads'"),
    ("{name: deals, refine: sales_pack.deals, replace: true}", "packs: [sales_pack]\n",
     "models[0].refine: a model either refines a pack's model or replaces it. Drop refine: or "
     "replace: true"),
    ("{name: orders, table: t, leave_out: [x]}", "",
     "models[0].leave_out: 'leave_out' is for a model that refines a pack's model. Add refine: "
     "<pack>.<model>, or drop leave_out"),
    ("{name: deals, refine: sales_pack.deals, leave_out: [stag]}", "packs: [sales_pack]\n",
     "models[0].leave_out[0]: pack model 'deals' has no column or dimension 'stag' to leave "
     "out. Did you mean 'stage'?"),
    ("{name: deals, refine: sales_pack.deals, leave_out: [created_at]}", "packs: [sales_pack]\n",
     "models[0].leave_out[0]: 'created_at' is the pack model's time column, so it cannot be left "
     "out. Give the refinement its own time, or keep 'created_at'"),
])
def test_refinement_mistakes_are_located(pack: None, make_project: Callable[..., Path],
                                         model: str, settings: str, message: str) -> None:
    root = make_project({"kpispec.yaml": settings, "ours.yaml": f"models:\n  - {model}\n"})
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(root)
    first = str(info.value).splitlines()[0]
    assert "ours.yaml:2:" in first and first.endswith(message), first


def test_a_refinement_leaves_out_what_its_table_lacks(
        pack: None, make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"kpispec.yaml": "packs: [sales_pack]\n", "ours.yaml": """
models:
  - name: deals
    refine: sales_pack.deals
    table: my_deals
    leave_out: [stage, owner_id]      # our table has neither
"""})
    project = kpispec.load_project(root)
    deals = project.models["deals"]
    assert deals.columns == ("deal_id", "created_at", "closed_at", "amount")
    assert deals.dimensions == {}
    assert set(project.metrics) == {"deals_created", "cycle_seconds"}
    notes = [w for w in project.warnings if w.startswith("pack 'sales_pack': left out:")]
    assert len(notes) == 3, notes
    assert any("ours.yaml:6:24: models[0].leave_out[1]: the pack's dimension 'rep' "
               "(sales_pack:sales.yaml:9) reads 'owner_id', which this refinement leaves out"
               in n for n in notes), notes
    assert any("metrics[0].measure.filter: unknown column 'stage' of model 'deals'" in n
               for n in notes), notes
    assert any("uses metric 'won_amount', which was left out" in n for n in notes), notes
    db = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE my_deals (deal_id INT, created_at TIMESTAMP, closed_at TIMESTAMP, "
                "amount DOUBLE)")
    con.executemany("INSERT INTO my_deals VALUES (?, ?, ?, ?)", [(r[0], r[1], r[2], r[4]) for r in DEALS])
    con.close()
    assert project.run(["deals_created", "cycle_seconds"], source=f"duckdb:///{db}").to_pylist() == [
        {"period": JANUARY, "deals_created": 3, "cycle_seconds": sum(map(_seconds, DEALS))}]
    result = CliRunner().invoke(main, ["validate", str(root), "--source", f"duckdb:///{db}"])
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: pack 'sales_pack': left out:") == 3


def test_pack_items_that_do_not_fit_are_left_out_with_a_warning(
        pack: None, make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "packs: [sales_pack]\n", "ours.yaml": """
models:
  - name: deals                      # a whole model of our own, without closed_at or amount
    replace: true
    table: deals
    time: created_at
    primary_key: deal_id
    columns: [deal_id, created_at, stage]
"""})
    project = kpispec.load_project(root)
    assert set(project.metrics) == {"deals_created"}
    notes = [w for w in project.warnings if w.startswith("pack 'sales_pack'")]
    assert any("unknown column 'amount' of model 'deals'" in n for n in notes)
    assert any("uses metric 'won_amount', which was left out" in n for n in notes)
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 0, result.output
    assert "warning: pack 'sales_pack': left out:" in result.output
    listed = CliRunner().invoke(main, ["list", str(root), "--json"])
    assert "3 pack item(s) left out" in listed.output


# -- dialects ---------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "tsql"])
def test_pack_snippets_are_read_in_the_pack_dialect_whatever_the_project_dialect(
        pack: None, make_project: Callable[..., Path], tmp_path: Path, dialect: str) -> None:
    """``date_diff('second', a, b)`` is DuckDB's; read as PostgreSQL it became AGE(...)."""
    root = make_project({"kpispec.yaml": f"dialect: {dialect}\n"})
    project = kpispec.load_project(root)
    rows = project.run(["cycle_seconds", "won_amount"], source=_deals_db(tmp_path)).to_pylist()
    assert rows == [{"period": JANUARY, "cycle_seconds": sum(map(_seconds, DEALS)),
                     "won_amount": 150.0}]


def test_a_refinements_own_snippets_are_read_in_the_project_dialect(
        pack: None, make_project: Callable[..., Path], tmp_path: Path) -> None:
    """T-SQL's ``[owner_id]`` is a column there (a list in DuckDB); the pack's date_diff stays DuckDB's."""
    root = make_project({"kpispec.yaml": "dialect: tsql\npacks: [sales_pack]\n", "ours.yaml": """
models:
  - name: deals
    refine: sales_pack.deals
    dimensions:
      - {name: rep, expr: "[owner_id] * 10"}
metrics:
  - name: big_deals
    type: simple
    measure: {model: deals, agg: count, filter: "[amount] >= 100"}
"""})
    project = kpispec.load_project(root)
    rows = project.run(["cycle_seconds", "big_deals"], by=["rep"], source=_deals_db(tmp_path)).to_pylist()
    by_rep: dict[int, list[tuple[object, ...]]] = {}
    for row in DEALS:
        by_rep.setdefault(int(str(row[5])) * 10, []).append(row)
    assert rows == [{"period": JANUARY, "rep": rep, "cycle_seconds": sum(map(_seconds, deals)),
                     "big_deals": sum(1 for d in deals if float(str(d[4])) >= 100)}
                    for rep, deals in sorted(by_rep.items())]


def test_a_pack_registered_in_another_dialect(fresh_plugins: None, tmp_path: Path,
                                              make_project: Callable[..., Path]) -> None:
    _register(tmp_path, PACK.replace("expr: amount,", "expr: \"[amount] * 2\","), "tsql_pack",
              dialect="tsql")
    try:
        project = kpispec.load_project(make_project({}))  # the project itself: DuckDB SQL
        assert project.run(["won_amount"], source=_deals_db(tmp_path)).to_pylist() == [
            {"period": JANUARY, "won_amount": 300.0}]
    finally:
        plugins.unregister_plugin("tsql_pack")


def test_a_pack_dialect_kpispec_does_not_read_is_reported(fresh_plugins: None, tmp_path: Path) -> None:
    _register(tmp_path, PACK, "odd_pack", dialect="cobol")
    try:
        problems = [str(p) for p in plugins.get_registry().problems]
        assert any("plugin 'odd_pack' in hook register_spec_paths: registered the pack "
                   "'sales_pack' with dialect='cobol', which kpispec does not read" in p
                   for p in problems), problems
        assert plugins.get_registry().spec_paths == []
    finally:
        plugins.unregister_plugin("odd_pack")


def test_validate_refuses_a_snippet_that_does_not_parse_in_the_project_dialect(
        make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "dialect: postgres\n", "m.yaml": """
models:
  - name: deals
    table: deals
    time: created_at
    dimensions:
      - {name: rep, expr: "`owner`"}
"""})
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 1
    assert "m.yaml:7:27: models[0].dimensions[0].expr: invalid SQL" in result.output, result.output


# -- list --origin ----------------------------------------------------------------------


def test_list_shows_and_filters_by_origin(pack: None, make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "packs: [sales_pack]\n", "ours.yaml": """
models:
  - {name: orders, table: orders, time: at}
metrics:
  - {name: orders_placed, type: simple, measure: {model: orders, agg: count}}
  - {name: deals_created, type: simple, measure: {model: orders, agg: count}}
"""})
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["list", str(root), "--json"]).output)
    assert {r["name"]: r["origin"] for r in rows} == {
        "orders_placed": "project", "deals_created": "project (overrides sales_pack)",
        "won_amount": "sales_pack", "avg_won": "sales_pack", "cycle_seconds": "sales_pack"}
    mine = json.loads(runner.invoke(main, ["list", str(root), "--json", "--origin", "project"]).output)
    assert [r["name"] for r in mine] == ["deals_created", "orders_placed"]
    theirs = runner.invoke(main, ["list", str(root), "--origin", "sales_pack"])
    assert theirs.exit_code == 0
    assert [line.split()[0] for line in theirs.output.splitlines()[1:]] == [
        "avg_won", "cycle_seconds", "won_amount"]
    wrong = runner.invoke(main, ["list", str(root), "--origin", "sales"])
    assert wrong.exit_code == 1
    assert "--origin 'sales': no metric of this project comes from it. Did you mean 'sales_pack'?" \
        in wrong.output


# -- templates --------------------------------------------------------------------------


def test_pack_file_whose_template_fails_is_left_out(fresh_plugins: None, tmp_path: Path,
                                                    make_project: Callable[..., Path]) -> None:
    directory = tmp_path / "pack2"
    directory.mkdir()
    (directory / "money.yaml").write_text(PACK.replace("expr: amount,", "expr: amount * {{ var('fx') }},"))
    plugins.register_plugin(_Pack(directory), "templated_pack")
    try:
        project = kpispec.load_project(make_project({}, "empty"))
        assert project.metrics == {}
        assert any("undefined var 'fx'" in w for w in project.warnings)
        root = make_project({"kpispec.yaml": "vars: {fx: 1.1}\n"}, "with_var")
        sql = kpispec.load_project(root).compile(["won_amount"]).sql
        assert "deals.amount * 1.1" in sql
    finally:
        plugins.unregister_plugin("templated_pack")


JOINED_PACK = """
models:
  - {name: reps, table: reps, primary_key: rep_id, time: hired_at, columns: [rep_id, hired_at, team],
     dimensions: [team]}
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, owner_id, amount]
    joins:
      - {model: reps, on: owner_id}
metrics:
  - {name: deals_created, type: simple, measure: {model: deals, agg: count}}
  - name: north_deals
    type: simple
    measure: {model: deals, agg: count}
    filter: "team = 'north'"
"""


def test_a_left_out_column_takes_the_pack_joins_on_it_along(
        fresh_plugins: None, tmp_path: Path, make_project: Callable[..., Path]) -> None:
    _register(tmp_path, JOINED_PACK, "joined_pack")
    try:
        root = make_project({"kpispec.yaml": "packs: [sales_pack]\n", "ours.yaml": """
models:
  - name: deals
    refine: sales_pack.deals
    table: my_deals
    leave_out: [owner_id]
"""})
        project = kpispec.load_project(root)
        assert project.models["deals"].joins == ()
        assert set(project.metrics) == {"deals_created"}
        notes = [w for w in project.warnings if w.startswith("pack 'sales_pack': left out:")]
        assert len(notes) == 2, notes
        assert any(n.endswith("ours.yaml:6:17: models[0].leave_out[0]: the pack's join 'reps' "
                              "(sales_pack:sales.yaml:11) reads 'owner_id', which this "
                              "refinement leaves out") for n in notes), notes
        assert any("sales_pack:sales.yaml:17:13: metrics[1].filter: unknown column 'team' of "
                   "model 'deals'" in n for n in notes), notes
    finally:
        plugins.unregister_plugin("joined_pack")


def test_validate_reports_a_pack_snippet_that_does_not_parse_in_the_pack_dialect(
        fresh_plugins: None, tmp_path: Path, make_project: Callable[..., Path]) -> None:
    """Backquotes are MySQL's: a pack written in PostgreSQL cannot use them, whatever the
    project's dialect; the metric is left out and validate says where and why."""
    _register(tmp_path, PACK.replace("expr: amount,", "expr: \"`amount`\","), "pg_pack",
              dialect="postgres")
    try:
        root = make_project({"kpispec.yaml": "dialect: mysql\n"})
        result = CliRunner().invoke(main, ["validate", str(root)])
        assert result.exit_code == 0, result.output
        assert ("warning: pack 'sales_pack': left out: sales_pack:sales.yaml:14:45: "
                "metrics[0].measure.expr: invalid SQL") in result.output, result.output
        assert "won_amount" not in kpispec.load_project(root).metrics
    finally:
        plugins.unregister_plugin("pg_pack")
