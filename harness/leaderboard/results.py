"""Metric cells of one system from its ``results.json``: the evaluation stage's own layout
(``tasks`` → ``metrics`` with value, stderr, ci95) or lm-eval's results dict (``results[task]
["metric,filter"]``, with the harness's ``ci95`` extra or ± 1.96 stderr)."""

from __future__ import annotations

import math
from typing import Any

from harness.leaderboard.model import MetricColumn, MetricValue, default_higher_is_better

Z95 = 1.959963984540054


def number(text: Any) -> float | None:
    """A finite float, or None for anything else (``"N/A"``, empty cells, NaN)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _groups(results: dict[str, Any]) -> set[str]:
    # group rows aggregate their subtasks; the leaderboard shows the tasks themselves
    return {name for name, children in (results.get("group_subtasks") or {}).items() if children}


def metrics_of(
    results: dict[str, Any], columns: dict[str, MetricColumn], missing: list[str] | None = None
) -> dict[str, MetricValue]:
    """Metric cells from the evaluation stage's ``results.json`` (``tasks`` → ``metrics``) or, for
    results written by lm-eval itself, from its ``results`` dict; ``missing`` collects the
    ``task/metric`` names a run measured as not a number (their cells stay empty)."""
    if isinstance(results.get("tasks"), dict):
        return _harness_metrics(results, columns, missing if missing is not None else [])
    return _lm_eval_metrics(results, columns)


def _harness_metrics(
    results: dict[str, Any], columns: dict[str, MetricColumn], missing: list[str]
) -> dict[str, MetricValue]:
    directions = (results.get("lm_eval") or {}).get("higher_is_better") or {}
    out: dict[str, MetricValue] = {}
    order = [t for t in results.get("task_order") or [] if t in results["tasks"]]
    for task in order + [t for t in results["tasks"] if t not in order]:
        group = str((results["tasks"][task] or {}).get("group") or "")
        for name, cell in sorted(((results["tasks"][task] or {}).get("metrics") or {}).items()):
            value = number(cell.get("value")) if isinstance(cell, dict) else None
            if value is None:
                if isinstance(cell, dict) and cell.get("value") is None:  # measured, but not a number
                    missing.append(f"{task}/{name}")
                continue
            metric, _, filter_ = name.partition(",")
            hib = cell.get("higher_is_better")
            if not isinstance(hib, bool):
                hib = (directions.get(task) or {}).get(metric)
            column = MetricColumn(
                task,
                metric,
                filter_ or "none",
                hib if isinstance(hib, bool) else default_higher_is_better(metric),
                group,
            )
            columns.setdefault(column.key, column)
            stderr = number(cell.get("stderr"))
            pair = _pair(cell.get("ci95"))
            if pair is None and stderr is not None:
                pair = (value - Z95 * stderr, value + Z95 * stderr)
            out[column.key] = MetricValue(value, stderr, *(pair or (None, None)))
    return out


def _lm_eval_metrics(results: dict[str, Any], columns: dict[str, MetricColumn]) -> dict[str, MetricValue]:
    per_task = results.get("results") or {}
    directions = results.get("higher_is_better") or {}
    groups = _groups(results)
    out: dict[str, MetricValue] = {}
    for task in sorted(per_task):
        if task in groups:
            continue
        cells = per_task[task] or {}
        for key, value in sorted(cells.items()):
            if "," not in key or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            metric, filter_ = key.split(",", 1)
            if metric.endswith("_stderr") or metric.endswith("_ci95"):
                continue
            hib = (directions.get(task) or {}).get(metric)
            column = MetricColumn(
                task, metric, filter_, hib if isinstance(hib, bool) else default_higher_is_better(metric)
            )
            columns.setdefault(column.key, column)
            stderr = number(cells.get(f"{metric}_stderr,{filter_}"))
            low, high = _ci95(results, task, metric, filter_, float(value), stderr)
            out[column.key] = MetricValue(float(value), stderr, low, high)
    return out


def _ci95(
    results: dict[str, Any], task: str, metric: str, filter_: str, value: float, stderr: float | None
) -> tuple[float | None, float | None]:
    """The harness's own 95% CI when results carry one, else value ± 1.96 stderr."""
    extras = (results.get("ci95") or {}).get(task) or {}
    task_cells = (results.get("results") or {}).get(task) or {}
    for found in (
        extras.get(f"{metric},{filter_}"),
        extras.get(metric),
        task_cells.get(f"{metric}_ci95,{filter_}"),
    ):
        pair = _pair(found)
        if pair is not None:
            return pair
    if stderr is not None:
        return value - Z95 * stderr, value + Z95 * stderr
    return None, None


def _pair(found: Any) -> tuple[float, float] | None:
    if isinstance(found, dict):
        found = [found.get("low", found.get("lower")), found.get("high", found.get("upper"))]
    if isinstance(found, (list, tuple)) and len(found) == 2:
        low, high = number(found[0]), number(found[1])
        if low is not None and high is not None:
            return low, high
    return None
