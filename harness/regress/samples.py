"""Per-sample logs (the harness's ``samples/<task>.jsonl``, or lm-eval's own
``samples_<task>_<timestamp>.jsonl``) read and aligned item by item."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.leaderboard.model import default_higher_is_better


@dataclass
class TaskSamples:
    """One task's per-sample metric values keyed by ``(doc_id, filter)``."""

    task: str
    path: Path
    metrics: dict[str, dict[tuple[Any, str], Any]] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)


def sample_files(folder: Path) -> dict[str, Path]:
    """``task → log`` in a results folder: the harness's ``samples/<task>.jsonl``, else lm-eval's
    ``samples_<task>_<timestamp>.jsonl`` (or an undated ``samples_<task>.jsonl``)."""
    found: dict[str, Path] = {path.stem: path for path in sorted((Path(folder) / "samples").glob("*.jsonl"))}
    for path in sorted(Path(folder).glob("samples_*.jsonl")):
        task = path.stem.removeprefix("samples_")
        # lm-eval's own tracker appends a timestamp: samples_<task>_2024-01-01T00-00-00.000.jsonl
        head, _, tail = task.rpartition("_")
        if head and tail[:4].isdigit() and "T" in tail:
            task = head
        # the harness's own log of a task is preferred to lm-eval's beside it; the newest dated one
        if task not in found or found[task].parent != Path(folder) / "samples":
            found[task] = path
    return found


def _directions(folder: Path) -> dict[str, dict[str, bool]]:
    """``task → metric → higher_is_better`` from the folder's results JSON (either layout)."""
    results = Path(folder) / "results.json"
    if not results.is_file():
        return {}
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"cannot read results: {exc}", file=str(results)) from None
    out: dict[str, dict[str, bool]] = {}
    for task, metrics in ((data.get("lm_eval") or data).get("higher_is_better") or {}).items():
        out[task] = {m: v for m, v in (metrics or {}).items() if isinstance(v, bool)}
    for task, summary in (data.get("tasks") or {}).items():
        for name, cell in ((summary or {}).get("metrics") or {}).items():
            if isinstance(cell, dict) and isinstance(cell.get("higher_is_better"), bool):
                out.setdefault(task, {})[name.partition(",")[0]] = cell["higher_is_better"]
    return out


def sample_values(sample: dict[str, Any]) -> dict[str, Any]:
    """Per-sample metric values of one log line.

    lm-eval's tracker lists metric names under ``metrics`` with the values at the top level; the
    harness's evaluation stage writes ``metrics`` as a dict of scalars and keeps lm-eval's raw
    values under ``raw``.  Raw ``[loglikelihood, weight]`` pairs win, so perplexities aggregate
    exactly as lm-eval does.
    """
    metrics = sample.get("metrics")
    if isinstance(metrics, dict):
        raw = sample.get("raw") or {}
        values = {}
        for name, value in metrics.items():
            original = raw.get(name)
            pair = isinstance(original, (list, tuple)) and len(original) == 2
            values[name] = original if pair and all(isinstance(v, (int, float)) for v in original) else value
        return values
    return {name: sample[name] for name in metrics or [] if name in sample}


def load_task(folder: Path, task: str, path: Path | None = None) -> TaskSamples:
    """Read one task's sample log; each line must have ``doc_id`` and list its ``metrics``."""
    path = path or sample_files(folder).get(task) or Path(folder) / "samples" / f"{task}.jsonl"
    directions = _directions(folder).get(task) or {}
    out = TaskSamples(task, path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read per-sample log: {exc}", file=str(path)) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number} is not JSON: {exc}", file=str(path), line=number) from None
        if "doc_id" not in sample:
            raise DataError(f"line {number} has no doc_id", file=str(path), line=number)
        key = (sample["doc_id"], str(sample.get("filter", "none")))
        for metric, value in sample_values(sample).items():
            if value is not None:
                out.metrics.setdefault(metric, {})[key] = value
    for metric in out.metrics:
        hib = directions.get(metric)
        out.higher_is_better[metric] = hib if isinstance(hib, bool) else default_higher_is_better(metric)
    return out


def align(base: dict[tuple[Any, str], Any], cand: dict[tuple[Any, str], Any]) -> tuple[list[Any], list[Any], int]:
    """Values of the items both systems scored, in a fixed order; and how many were unmatched."""
    common = sorted(set(base) & set(cand), key=lambda k: (str(k[1]), str(type(k[0])), k[0]))
    unmatched = len(set(base) ^ set(cand))
    return [base[k] for k in common], [cand[k] for k in common], unmatched
