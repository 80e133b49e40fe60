"""Calling one hook implementation at a time, traced when ``KPISPEC_TRACE_PLUGINS`` is set.

kpispec calls registration hooks (and replays ``modify_query``) one implementation at
a time, so that a failure is pinned on the plugin that raised it. This module holds
that call, below both :mod:`kpispec.plugins` and the compiler, which use it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pluggy

__all__ = ["call_impl", "tracing"]


def tracing() -> bool:
    """Whether ``KPISPEC_TRACE_PLUGINS`` asks for every hook call to be logged."""
    return os.environ.get("KPISPEC_TRACE_PLUGINS") not in (None, "", "0")


def call_impl(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
    """Call one hook implementation with the subset of ``kwargs`` it accepts.

    Logged to standard error when ``KPISPEC_TRACE_PLUGINS`` is set, like pluggy's
    own tracing of whole hook calls.
    """
    if tracing():
        hook = impl.opts.get("specname") or impl.function.__name__
        sys.stderr.write(f"[kpispec plugins] {hook} -> {impl.plugin_name}\n")
    return impl.function(*[kwargs[name] for name in impl.argnames])
