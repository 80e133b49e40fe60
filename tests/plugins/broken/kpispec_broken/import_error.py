"""Fails to import: a dependency that is not installed."""

import kpispec_this_module_does_not_exist  # noqa: F401
