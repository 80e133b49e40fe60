"""Raises in a registration hook, after registering a sink that must then not be used."""

import kpispec


def _open(target, schema, context):
    raise AssertionError("never opened")


@kpispec.hookimpl
def register_sinks(register):
    register(kpispec.SinkType(name="half_done", schemes=("halfdone",), open=_open))
    raise RuntimeError("cannot read ~/.kpispec-broken.toml")
