"""``kpispec new-plugin NAME``: a plugin package that passes its own tests as created.

The package has a ``pyproject.toml`` declaring the ``kpispec`` entry point, a
hook module contributing a metric type, tests written with
:mod:`kpispec.testing`, and a README with the next steps. The files are plain
text templates (``string.Template``, ``$name`` placeholders) of Python, TOML
and Markdown — no SQL is built here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from string import Template

from kpispec.errors import KpispecError

__all__ = ["PluginNames", "create_plugin", "plugin_names"]

_PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Longest plugin name: its derived names (``kpispec-<name>``, ``tests/test_kpispec_<name>.py``,
#: ``<name>_difference``) stay well inside a file name's 255 bytes.
MAX_PLUGIN_NAME = 64


@dataclass(frozen=True)
class PluginNames:
    """The names of a new plugin, all derived from the one the user gives."""

    plugin: str  #: the entry point's name: what ``kpispec plugins`` shows, ``--no-plugin`` takes
    module: str  #: the import name of the hook module, ``kpispec_<plugin>``
    distribution: str  #: the package name on PyPI, ``kpispec-<plugin>``
    metric_type: str  #: the example metric type, ``<plugin>_difference``


def plugin_names(name: str) -> PluginNames:
    """Derive the names from ``NAME`` (``acme``, ``acme-sales``, ``kpispec-acme``…).

    >>> names = plugin_names("kpispec-Acme-Sales")
    >>> names.plugin, names.module, names.distribution, names.metric_type
    ('acme_sales', 'kpispec_acme_sales', 'kpispec-acme-sales', 'acme_sales_difference')

    Raises:
        KpispecError: the name cannot be a plugin name.
    """
    plugin = name.strip().lower().replace("-", "_")
    plugin = plugin.removeprefix("kpispec_")
    if len(plugin) > MAX_PLUGIN_NAME:
        raise KpispecError(
            f"a plugin name is at most {MAX_PLUGIN_NAME} characters; {name[:20]!r}... has "
            f"{len(plugin)}. Choose a shorter name, e.g. 'kpispec new-plugin acme-sales'")
    if not _PLUGIN_NAME.match(plugin):
        raise KpispecError(
            f"{name!r} cannot name a plugin: use lower-case letters, digits, '-' or '_', "
            "starting with a letter, e.g. 'kpispec new-plugin acme-sales'")
    return PluginNames(plugin=plugin, module=f"kpispec_{plugin}",
                       distribution=f"kpispec-{plugin.replace('_', '-')}",
                       metric_type=f"{plugin}_difference")


def _installed_plugins() -> dict[str, str]:
    from kpispec.plugins import ENTRY_POINT_GROUP

    found = {"core_types": "kpispec"}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found.setdefault(ep.name, dist.metadata["Name"] if dist else ep.value)
    return found


def create_plugin(name: str, directory: Path | None = None, *, author: str = "") -> list[Path]:
    """Write a new plugin package; return the files written.

    Args:
        name: the plugin's name (see :func:`plugin_names`).
        directory: where to create it (default: ``./kpispec-<name>``); it must not exist
            or be empty.
        author: the author written into ``pyproject.toml``.

    Raises:
        KpispecError: the name is invalid or taken by an installed plugin, the
            directory is not empty, or a file cannot be written (nothing is left then).
    """
    names = plugin_names(name)
    taken = _installed_plugins()
    if names.plugin in taken:
        raise KpispecError(
            f"plugin name {names.plugin!r} is already taken by the installed package "
            f"{taken[names.plugin]!r}; choose another name")
    root = directory if directory is not None else Path.cwd() / names.distribution
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise KpispecError(f"{str(root)!r} already exists and is not an empty directory; "
                           "choose another place with --dir")
    values = {
        "plugin": names.plugin,
        "module": names.module,
        "distribution": names.distribution,
        "metric_type": names.metric_type,
        "authors": f"\nauthors = [{{name = {json.dumps(author, ensure_ascii=False)}}}]" if author else "",
        "requirement": _requirement(),
    }
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{names.module}/__init__.py": HOOKS,
        f"{names.module}/py.typed": "",
        "tests/conftest.py": CONFTEST,
        f"tests/test_{names.module}.py": TESTS,
    }
    written: list[Path] = []
    created_root = not root.exists()
    try:
        for relative, template in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(Template(template).substitute(values), encoding="utf-8")
            written.append(target)
    except OSError as exc:
        _remove_partial(root if created_root else None, written)
        raise KpispecError(f"cannot create the plugin in {str(root)!r}: "
                           f"{exc.strerror or exc}; nothing was left there") from None
    return written


def _remove_partial(root: Path | None, written: list[Path]) -> None:
    """Undo a failed :func:`create_plugin`: the directory it made, or the files it wrote."""
    import shutil

    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
        return
    for path in written:
        path.unlink(missing_ok=True)


def _requirement() -> str:
    """``kpispec>=X.Y`` for the running kpispec (plugins follow its minor releases)."""
    try:
        version = metadata.version("kpispec")
    except metadata.PackageNotFoundError:
        return "kpispec"
    major_minor = ".".join(version.split(".")[:2])
    return f"kpispec>={major_minor}"


PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "A kpispec plugin: the $metric_type metric type."
readme = "README.md"
requires-python = ">=3.10"
license = {text = "Apache-2.0"}$authors
classifiers = [
    "Programming Language :: Python :: 3",
    "Topic :: Database",
]
dependencies = ["$requirement"]

[project.optional-dependencies]
test = ["pytest>=8"]

# kpispec loads every module of this group: the entry point's name is the plugin's
# name (kpispec plugins, --no-plugin $plugin), its value the module with the hooks.
[project.entry-points.kpispec]
$plugin = "$module"

[tool.setuptools]
packages = ["$module"]

[tool.setuptools.package-data]
$module = ["py.typed"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

HOOKS = '''\
"""$distribution: a kpispec plugin.

kpispec finds this module through the ``kpispec`` entry point in
pyproject.toml and calls its functions marked ``@kpispec.hookimpl``. This one
contributes the ``$metric_type`` metric type; the other hooks
(register_sources, register_sinks, register_spec_paths,
register_template_context, register_lint_rules, modify_query) are described,
with an example each, in kpispec's docs/plugin-hooks.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import kpispec
from sqlglot import exp

__version__ = "0.1.0"


def lower_difference(spec: Mapping[str, Any], ctx: kpispec.LowerContext) -> kpispec.Lowered:
    """Two measures, ``plus`` and ``minus``; the value is their difference.

    The measures are mappings like a spec's ``measure:`` (model, agg, expr,
    filter, time); the expression names them as columns, and kpispec compiles
    it for every SQL dialect.
    """
    return kpispec.Lowered(
        measures={"plus": spec["plus"], "minus": spec["minus"]},
        expr=exp.Sub(this=exp.column("plus"), expression=exp.column("minus")),
    )


@kpispec.hookimpl
def register_metric_types(register: Callable[..., None]) -> None:
    register(kpispec.MetricType(
        name="$metric_type",
        description="One measure minus another, e.g. accounts signed up minus accounts cancelled.",
        schema={
            "properties": {
                "plus": {"$$ref": "#/$$defs/measure", "description": "What is added."},
                "minus": {"$$ref": "#/$$defs/measure", "description": "What is taken away."},
            },
            "required": ["plus", "minus"],
        },
        lower=lower_difference,
    ))
'''

CONFTEST = '''\
"""kpispec.testing's fixtures for these tests: kpispec_project, memory_source, capturing_sink."""

from kpispec.testing import capturing_sink, kpispec_project, memory_source  # noqa: F401
'''

TESTS = '''\
"""Tests of $distribution, written with kpispec.testing.

Run them with the plugin installed: python -m pip install -e ".[test]" && python -m pytest
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from click.testing import CliRunner
from kpispec.cli import main
from kpispec.testing import (
    CapturingSink,
    assert_compiles_on_every_dialect,
    assert_plugin_ok,
    only_plugins,
)

SPEC = """
models:
  - name: signups
    table: signups
    primary_key: account_id
    time: signed_up_at
    columns: [account_id, signed_up_at, cancelled_at]
metrics:
  - name: net_new_accounts
    description: Accounts signed up minus accounts cancelled, by period.
    type: $metric_type
    plus: {model: signups, agg: count}
    minus: {model: signups, agg: count, time: cancelled_at}
"""

ROWS = [
    {"account_id": 1, "signed_up_at": "2024-01-05", "cancelled_at": None},
    {"account_id": 2, "signed_up_at": "2024-01-20", "cancelled_at": "2024-02-10"},
    {"account_id": 3, "signed_up_at": "2024-02-03", "cancelled_at": None},
]


def test_plugin_loads_cleanly() -> None:
    with only_plugins("$plugin"):
        info = assert_plugin_ok("$plugin")
    assert info.registered == {"metric type": ["$metric_type"]}


def test_metric_type_runs(kpispec_project: Any, memory_source: Any) -> None:
    source = memory_source({"signups": ROWS})
    project = kpispec_project({"metrics.yaml": SPEC}, packs=False)
    table = project.run(["net_new_accounts"], source=source.url, start="2024-01-01",
                        end="2024-03-01")
    assert table.to_pylist() == [
        {"period": dt.date(2024, 1, 1), "net_new_accounts": 2},
        {"period": dt.date(2024, 2, 1), "net_new_accounts": 0},
    ]


def test_metric_type_through_the_cli(kpispec_project: Any, memory_source: Any,
                                     capturing_sink: CapturingSink) -> None:
    source = memory_source({"signups": ROWS})
    project = kpispec_project({"metrics.yaml": SPEC}, packs=False)
    result = CliRunner().invoke(main, [
        "run", "net_new_accounts", "-p", str(project.root), "--source", source.url,
        "--from", "2024-02-01", "--to", "2024-03-01", "--sink", capturing_sink.url])
    assert result.exit_code == 0, result.output
    assert capturing_sink.rows == [{"period": dt.date(2024, 2, 1), "net_new_accounts": 0}]


def test_metric_type_compiles_on_every_dialect(kpispec_project: Any) -> None:
    project = kpispec_project({"metrics.yaml": SPEC}, packs=False)
    assert_compiles_on_every_dialect(project, ["net_new_accounts"])
'''

README = """\
# $distribution

A kpispec plugin contributing the `$metric_type` metric type: one measure
minus another.

```yaml
metrics:
  - name: net_new_accounts
    description: Accounts signed up minus accounts cancelled, by period.
    type: $metric_type
    plus:  {model: signups, agg: count}
    minus: {model: signups, agg: count, time: cancelled_at}
```

## Develop

```bash
python -m pip install -e ".[test]"   # kpispec now loads the plugin '$plugin'
python -m pytest                     # its tests, written with kpispec.testing
kpispec plugins                      # $plugin  0.1.0  $distribution  ok  metric type: $metric_type
```

Add hooks to `$module/__init__.py`; each hook, with an example, is in
kpispec's `docs/plugin-hooks.md`, and `docs/writing-plugins.md` walks from
here to a published package.

## Publish

```bash
python -m pip install build twine
python -m build                       # dist/*.whl and dist/*.tar.gz
python -m twine upload dist/*
```
"""
