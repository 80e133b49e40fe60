"""The CRM metric pack: kpispec's CRM metric catalog, shipped as YAML specs.

Registered through the ``kpispec`` entry-point group as ``crm``; its only hook
registers the catalog directory (``kpispec_specs/crm``) as the pack named
``crm``, written in DuckDB SQL: it is the project of a directory with no specs
of its own, and part of any other project whose ``kpispec.yaml`` says
``packs: [crm]``. The ``nps`` metric type the catalog uses lives in
:mod:`kpispec_crm.nps`, a plugin of its own (``crm_nps``).

Importing this module stays cheap: the catalog's location is looked up only
when the hook runs.
"""

from __future__ import annotations

from collections.abc import Callable

from kpispec.hookspecs import hookimpl

__all__ = ["register_spec_paths"]


@hookimpl
def register_spec_paths(register: Callable[..., None]) -> None:
    """Register the CRM catalog directory as the pack ``crm``, whose snippets are DuckDB SQL."""
    from kpispec_specs import ROOT

    register(ROOT / "crm", name="crm", dialect="duckdb")
