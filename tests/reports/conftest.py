"""Fixtures for the leaderboard and regression tests: fabricated run folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from fabricate import make_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """One complete run folder (four systems, three adapters, two tasks)."""
    return make_run(tmp_path / "runs")


@pytest.fixture
def two_runs(tmp_path: Path) -> list[Path]:
    """Two runs of the same benchmark with different seeds."""
    return [
        make_run(tmp_path / "runs", run_id="20260101-000000", seed=0),
        make_run(tmp_path / "runs", run_id="20260102-000000", seed=1),
    ]


@pytest.fixture(scope="session")
def reports_registry():
    """A registry with only the built-in reports plugin, registered through the usual hook (so these
    tests do not depend on the other built-in plugins being importable)."""
    import pluggy

    import harness_plugins.reports
    from harness import hookspecs
    from harness.plugins import build_registry

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(harness_plugins.reports, name="harness_plugins.reports")
    pm.harness_origins = {"harness_plugins.reports": ("builtin", "harness")}
    return build_registry(pm)
