"""The bad-input corpus: each broken spec and the exact text `kpispec validate` prints.

A case is ``cases/<name>.yaml`` (one spec file) or ``cases/<name>/`` (a project
directory: several files, a ``kpispec.yaml``…), paired with
``cases/<name>.expected``. The case is copied to a fresh directory and
validated from inside it (``kpispec validate .``), so every message names the
file relative to the project, as a user running the command there would see
it. ``pytest --update-golden`` rewrites the ``.expected`` files; review the
diff.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from kpispec.cli import main

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(
    p.stem if p.is_file() else p.name
    for p in CASES_DIR.iterdir()
    if (p.is_file() and p.suffix == ".yaml") or (p.is_dir() and not p.name.startswith((".", "_")))
)


#: Cases kpispec gets wrong today: the .expected file holds what it should print.
#: Strict, so the fix turns them into failures that ask for the marker's removal.
KNOWN_BUGS: dict[str, str] = {}
#: Cases whose message names the file but no line:column.
UNLOCATED: dict[str, str] = {}


def _params(extra: dict[str, str]) -> list[object]:
    reasons = {**KNOWN_BUGS, **extra}
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name]))
            if name in reasons else name for name in CASES]


def _source(name: str) -> Path:
    directory = CASES_DIR / name
    return directory if directory.is_dir() else CASES_DIR / f"{name}.yaml"


def validate(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run ``kpispec validate .`` inside a copy of the case; return (exit code, output)."""
    source = _source(name)
    project = tmp_path / name
    if source.is_dir():
        shutil.copytree(source, project)
    else:
        project.mkdir()
        shutil.copy(source, project / source.name)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["validate", "."])
    # click >= 8.2 mixes stderr into output; older versions keep it apart.
    output = result.output
    try:
        stderr = result.stderr
    except ValueError:  # click < 8.2 with stderr already mixed into output
        stderr = ""
    if stderr and stderr not in output:
        output += stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{name}: validate raised {type(result.exception).__name__}: {result.exception}")
    return result.exit_code, output


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30, CASES


@pytest.mark.parametrize("name", _params({}))
def test_validate_reports_exactly(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  update_golden: bool) -> None:
    code, output = validate(name, tmp_path, monkeypatch)
    assert code == 1, f"{name}: exit code {code}, output:\n{output}"
    assert "Traceback" not in output, f"{name}: a traceback:\n{output}"
    expected_file = CASES_DIR / f"{name}.expected"
    if update_golden:
        if not expected_file.exists() or expected_file.read_text(encoding="utf-8") != output:
            expected_file.write_text(output, encoding="utf-8")
        return
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing: run `pytest --update-golden` to write it, "
                    "then review it", pytrace=False)
    assert output == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", _params(UNLOCATED))
def test_every_message_is_located(name: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each problem line names a file of the case, a line and a column."""
    _, output = validate(name, tmp_path, monkeypatch)
    lines = [line for line in output.splitlines() if line and not line.endswith("found.")]
    assert lines, f"{name}: no problem reported"
    files = {p.name for p in _source(name).glob("*.yaml")} if _source(name).is_dir() \
        else {f"{name}.yaml"}
    for line in lines:
        text = line.removeprefix("error: ")
        file, _, rest = text.partition(":")
        assert file in files, f"{name}: {line!r} does not start with one of {sorted(files)}"
        row, _, rest = rest.partition(":")
        col, _, _ = rest.partition(":")
        assert row.isdigit() and int(row) > 0 and col.isdigit() and int(col) > 0, (
            f"{name}: {line!r} has no line:column")


def test_expected_files_have_cases() -> None:
    orphans = sorted(p.stem for p in CASES_DIR.glob("*.expected") if p.stem not in CASES)
    assert not orphans, f"expected files without a case: {orphans}"
