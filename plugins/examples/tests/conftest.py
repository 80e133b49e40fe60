"""kpispec.testing's fixtures for these tests: kpispec_project, memory_source, capturing_sink."""

from kpispec.testing import capturing_sink, kpispec_project, memory_source  # noqa: F401
