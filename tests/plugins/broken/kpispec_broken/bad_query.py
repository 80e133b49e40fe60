"""A modify_query hook that fails on every query."""

import kpispec


@kpispec.hookimpl
def modify_query(expression, context):
    raise KeyError("tenant_id")
