"""Pausing Python's cyclic garbage collector while a project is loaded or compiled.

sqlglot trees link every node to its parent, so loading and compiling allocate
hundreds of thousands of objects in reference cycles; the collector then walks
the whole, growing heap again and again (about half of the time of loading or
compiling 1,000 metrics, see bench/README.md). Nothing made during those steps
needs collecting before they end, so the collector is paused for their duration
and resumes afterwards. A program that turned the collector off itself keeps it off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (nested and threaded uses nest)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
