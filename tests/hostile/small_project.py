"""The smallest project some hostile tests need: one model over ``deals``, then metrics."""

from __future__ import annotations

#: A model ``deals`` (``created_at``, ``amount``) and the ``metrics:`` key, for metrics to follow.
DEALS = """\
models:
  - name: deals
    table: deals
    time: created_at
    columns: [created_at, amount]
metrics:
"""
