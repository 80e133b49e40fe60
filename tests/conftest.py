"""Options and fixtures shared by the whole test suite."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# The project cache (kpispec/_cache.py) of this run: fresh, and never the user's ~/.cache.
os.environ["KPISPEC_CACHE_DIR"] = _CACHE_DIR = tempfile.mkdtemp(prefix="kpispec-test-cache-")
atexit.register(shutil.rmtree, _CACHE_DIR, True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files (tests/golden/*/expected/*.sql, tests/spec_errors/**/*.expected) "
        "from the current output instead of comparing with them; review the diff.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with ``--update-golden``."""
    return bool(request.config.getoption("--update-golden"))


#: Plugins that add specs to every project. Tests run without them unless they ask for
#: them with the ``crm_pack`` fixture, so a project's expected output does not change when
#: the catalog does.
PACK_PLUGINS = "crm"


@pytest.fixture(autouse=True)
def _forget_registered_passwords() -> object:
    """Passwords a test's sources registered for masking are forgotten after it: a test
    connecting as ``u:secret@`` must not mask the word "secret" in later tests' messages."""
    from kpispec import errors

    before = set(errors._secrets)
    yield
    with errors._secrets_lock:
        errors._secrets.intersection_update(before)


@pytest.fixture(autouse=True)
def _no_packs_by_default(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpispec import plugins

    wanted = "" if "crm_pack" in request.fixturenames else PACK_PLUGINS
    monkeypatch.setenv("KPISPEC_BLOCK_PLUGINS", wanted)  # subprocesses see it too
    plugins.reset()


@pytest.fixture
def crm_pack() -> None:
    """Load the CRM catalog pack (blocked by default in tests)."""
