"""The leaderboard: collect run folders into one model, render it through the report formats."""

from __future__ import annotations

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
