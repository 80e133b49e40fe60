"""Registers a sink under a name the built-in CSV sink already has."""

import kpispec


def _open(target, schema, context):
    raise AssertionError("never opened")


@kpispec.hookimpl
def register_sinks(register):
    register(kpispec.SinkType(name="csv", schemes=("csv2",), open=_open))
