"""Data files shipped with kpispec: the spec JSON Schema and the CRM metric catalog."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
SCHEMA_PATH = ROOT / "schema" / "metric.schema.json"
