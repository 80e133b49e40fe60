"""The project cache: a hit returns the same project; any change of its inputs is a miss."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import kpispec
import pytest
from click.testing import CliRunner
from kpispec import _cache
from kpispec.cli import main

from tests.unit.conftest import DEALS


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KPISPEC_CACHE_DIR", str(directory))
    monkeypatch.delenv("KPISPEC_NO_CACHE", raising=False)
    return directory


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("project-*.pickle"))


def _compiled(project: kpispec.Project) -> str:
    return project.compile(["deals_won", "revenue", "avg_deal"], by=["region"]).sql


def test_a_hit_gives_the_same_project(make_project: Callable[..., Path], cache_dir: Path) -> None:
    root = make_project({"specs.yaml": DEALS})
    first = kpispec.load_project(root, cache=True)
    assert len(_entries(cache_dir)) == 1
    second = kpispec.load_project(root, cache=True)
    assert len(_entries(cache_dir)) == 1
    assert second.models.keys() == first.models.keys()
    assert second.metrics.keys() == first.metrics.keys()
    assert _compiled(second) == _compiled(first) == _compiled(kpispec.load_project(root))
    assert second.root == root


def test_a_hit_does_not_read_the_specs_again(make_project: Callable[..., Path], cache_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"specs.yaml": DEALS})
    kpispec.load_project(root, cache=True)
    from kpispec import _loading as project_module

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached project was built again")

    monkeypatch.setattr(project_module, "_build_project", fail)
    assert "revenue" in kpispec.load_project(root, cache=True).metrics


def test_changed_added_and_removed_files_are_misses(make_project: Callable[..., Path],
                                                    cache_dir: Path) -> None:
    root = make_project({"specs.yaml": DEALS})
    kpispec.load_project(root, cache=True)
    # Same size, same second: only the bytes differ.
    text = (root / "specs.yaml").read_text()
    (root / "specs.yaml").write_text(text.replace("stage = 'won'", "stage = 'WON'"))
    changed = kpispec.load_project(root, cache=True)
    assert "'WON'" in changed.compile(["deals_won"]).sql
    (root / "more.yaml").write_text("metrics:\n  - name: lost\n    type: simple\n"
                                    "    measure: {model: deals, agg: count}\n"
                                    "    filter: stage = 'lost'\n")
    assert "lost" in kpispec.load_project(root, cache=True).metrics
    (root / "more.yaml").unlink()
    assert "lost" not in kpispec.load_project(root, cache=True).metrics


def test_variables_are_part_of_the_key(make_project: Callable[..., Path], cache_dir: Path) -> None:
    root = make_project({"specs.yaml": DEALS.replace("stage = 'won'", "stage = '{{ var(\"s\", \"won\") }}'")})
    assert "'won'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql
    assert "'lost'" in kpispec.load_project(root, vars={"s": "lost"}, cache=True).compile(["deals_won"]).sql
    assert "'won'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql


def test_environment_read_by_templates_is_checked(make_project: Callable[..., Path], cache_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"kpispec.yaml": "env_vars: [KPI_STAGE]\n",
                         "specs.yaml": DEALS.replace("stage = 'won'",
                                                     "stage = '{{ env_var(\"KPI_STAGE\") }}'")})
    monkeypatch.setenv("KPI_STAGE", "won-secret-value")
    assert "'won-secret-value'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql
    (entry,) = _entries(cache_dir)
    import hashlib

    recorded = pickle.loads(entry.read_bytes())["environment"]  # a hash of the value, not the value
    assert recorded == [("KPI_STAGE", hashlib.sha256(b"won-secret-value").hexdigest())]
    monkeypatch.setenv("KPI_STAGE", "lost")
    assert "'lost'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql
    monkeypatch.setenv("KPI_STAGE", "won-secret-value")
    assert "'won-secret-value'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql


def test_other_template_functions_turn_the_cache_off(make_project: Callable[..., Path],
                                                     cache_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from kpispec import _loading as project_module

    real = project_module._template_context
    calls: list[int] = []

    def stage() -> str:
        calls.append(1)
        return "won" if len(calls) == 1 else "lost"

    def with_plugin_function(settings: object, variables: object) -> dict[str, object]:
        context = real(settings, variables)  # type: ignore[arg-type]
        context["stage"] = stage
        return context

    monkeypatch.setattr(project_module, "_template_context", with_plugin_function)
    root = make_project({"specs.yaml": DEALS.replace("stage = 'won'", "stage = '{{ stage() }}'")})
    assert "'won'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql
    assert _entries(cache_dir) == []
    assert "'lost'" in kpispec.load_project(root, cache=True).compile(["deals_won"]).sql


def test_a_corrupt_or_foreign_entry_is_a_miss(make_project: Callable[..., Path],
                                              cache_dir: Path) -> None:
    root = make_project({"specs.yaml": DEALS})
    kpispec.load_project(root, cache=True)
    (entry,) = _entries(cache_dir)
    entry.write_bytes(b"not a pickle")
    assert "revenue" in kpispec.load_project(root, cache=True).metrics
    entry.write_bytes(pickle.dumps({"format": -1, "project": "old"}))
    assert "revenue" in kpispec.load_project(root, cache=True).metrics


def test_entries_others_can_write_are_never_read(make_project: Callable[..., Path],
                                                 cache_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"specs.yaml": DEALS})
    kpispec.load_project(root, cache=True)
    (entry,) = _entries(cache_dir)
    entry.chmod(0o666)
    assert _cache.read(entry.stem.removeprefix("project-")) is None
    entry.chmod(0o600)
    cache_dir.chmod(0o777)
    assert _cache.read(entry.stem.removeprefix("project-")) is None
    cache_dir.chmod(0o700)
    assert _cache.read(entry.stem.removeprefix("project-")) is not None


def test_off_switches(make_project: Callable[..., Path], cache_dir: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"specs.yaml": DEALS})
    kpispec.load_project(root)  # the Python API does not cache unless asked
    assert not cache_dir.exists()
    result = CliRunner().invoke(main, ["--no-cache", "list", str(root)])
    assert result.exit_code == 0, result.output
    assert not cache_dir.exists()
    monkeypatch.setenv("KPISPEC_NO_CACHE", "1")
    assert CliRunner().invoke(main, ["list", str(root)]).exit_code == 0
    assert not cache_dir.exists()
    monkeypatch.delenv("KPISPEC_NO_CACHE")
    assert CliRunner().invoke(main, ["list", str(root)]).exit_code == 0
    assert len(_entries(cache_dir)) == 1


def test_an_unwritable_cache_directory_is_no_error(make_project: Callable[..., Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("KPISPEC_CACHE_DIR", str(blocker / "cache"))
    root = make_project({"specs.yaml": DEALS})
    assert "revenue" in kpispec.load_project(root, cache=True).metrics


def test_errors_are_never_cached(make_project: Callable[..., Path], cache_dir: Path) -> None:
    root = make_project({"specs.yaml": DEALS.replace("expr: revenue / deals_won",
                                                     "expr: revenue / deals_wonn")})
    for _ in range(2):
        with pytest.raises(kpispec.SpecErrors, match="deals_wonn"):
            kpispec.load_project(root, cache=True)
    assert _entries(cache_dir) == []


def test_old_entries_are_pruned(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "MAX_ENTRIES", 3)
    for i in range(5):
        _cache.write(f"{i:064x}", {"n": i}, [])
        written = cache_dir / f"project-{i:064x}.pickle"
        if written.exists():  # oldest first, whatever the clock's resolution
            os.utime(written, ns=(i * 10**9, i * 10**9))
    kept = _entries(cache_dir)
    assert len(kept) == 3
    assert _cache.read(f"{4:064x}") == {"n": 4}
