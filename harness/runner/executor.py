"""The harness's own ``run_stage`` implementation; plugins wrap it to observe stages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.hookspecs import hookimpl

if TYPE_CHECKING:
    from harness.runner.stage import RunInfo, Stage


@hookimpl
def run_stage(stage: Stage, run: RunInfo) -> Any:
    """Run ``stage`` (or take it from the cache) and return its record."""
    from harness.runner.cache import execute_or_load

    return execute_or_load(stage, run)
