"""The ``>>>`` examples in core's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["kpispec._dialect_names", "kpispec.compile.dialects", "kpispec.compile.guard",
           "kpispec.compile.naming", "kpispec.spec.loader", "kpispec.spec.snippets",
           "kpispec.project", "kpispec._source_url", "kpispec._metric_list", "kpispec._dimensions"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or name == "kpispec.project"
