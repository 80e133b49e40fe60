"""Implements a hook whose name is misspelt."""

import kpispec


@kpispec.hookimpl
def register_source(register):
    pass
