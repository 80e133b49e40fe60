"""Deliberately broken kpispec plugins (one module per way of breaking)."""
