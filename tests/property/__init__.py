"""Property-based tests (hypothesis): generated specs, data and queries (issue 9).

Whatever a user writes — a valid project, a subtly broken one, SQL token soup in
a snippet, odd query options — kpispec either compiles one SELECT that the
engine runs (with the numbers an independent Python computation gives), or
refuses with a :class:`kpispec.KpispecError`; never an unhandled exception.

Layout:

* ``exprs.py`` — snippet trees: rendered as SQL text per dialect, evaluated in Python;
* ``gen.py`` — strategies for projects (written as YAML), rows and queries;
* ``reference.py`` — the expected result of a query, in plain Python;
* ``harness.py`` — settings, scratch directories, outcome checks, DuckDB and SQLite;
* ``known_bugs.py`` — where the generators steer around bugs already reported;
* ``test_regressions.py`` — one minimal reproducer per bug found (xfail while open);
* ``test_*.py`` — the properties.

Every test runs with ``derandomize=True`` (a fixed seed per test) and no example
database, so a run is reproducible. ``KPISPEC_PROPERTY_SCALE=10`` multiplies every
test's number of examples, for a deeper (slower) hunt; the seed stays fixed, so a
failure found that way reproduces with the same setting.
"""
