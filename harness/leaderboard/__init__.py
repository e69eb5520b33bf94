"""The leaderboard: collect run folders into one model, render it through the report formats."""

from __future__ import annotations

import sys
import types
from typing import Any

from harness.leaderboard.collect import collect, find_runs
from harness.leaderboard.model import AdapterInfo, Entry, Leaderboard, MetricColumn, MetricValue, RunSummary
from harness.leaderboard.write import render_terminal, write_all

__all__ = [
    "AdapterInfo",
    "Entry",
    "Leaderboard",
    "MetricColumn",
    "MetricValue",
    "RunSummary",
    "collect",
    "find_runs",
    "render_terminal",
    "write_all",
]


class _CallableModule(types.ModuleType):
    """``harness.leaderboard(runs)`` is the API's DataFrame function (:func:`harness.api.leaderboard`)
    while ``harness.leaderboard`` stays this package: the module itself is made callable."""

    def __call__(self, runs: Any) -> Any:
        from harness.api import leaderboard

        return leaderboard(runs)


sys.modules[__name__].__class__ = _CallableModule
