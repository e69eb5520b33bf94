"""Regression gates: paired statistics on per-sample logs and the pass/fail decision."""

from __future__ import annotations

from harness.regress.gate import GateReport, MetricVerdict, compare

__all__ = ["GateReport", "MetricVerdict", "compare"]
