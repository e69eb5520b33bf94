"""The Python API: ``harness.run``, ``harness.leaderboard`` and ``harness.export``.

>>> import harness
>>> result = harness.run("benchmarks/smoke.yaml", out="runs", profile="cpu")   # doctest: +SKIP
>>> result.run_dir, result.executed                                          # doctest: +SKIP
>>> harness.leaderboard([result.run_dir])                                    # doctest: +SKIP

``run`` does what ``harness run SPEC`` does (the stages, from cache where unchanged, then the
leaderboard files of ``report.formats`` beside the run) without printing the terminal table,
and returns the :class:`~harness.runner.run.RunResult`; errors are raised as
:class:`~harness.errors.HarnessError` subclasses instead of exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from harness.runner.run import RunResult


def run(spec: str | Path, **options: Any) -> RunResult:
    """Run a benchmark spec; ``options`` are :class:`~harness.runner.run.RunOptions` fields
    (``profile``, ``out``, ``only``, ``systems``, ``limit``, ``force``, ``run_id``, ``cache``,
    ``precision``), with paths given as ``str`` or ``Path``."""
    from rich.console import Console

    from harness.errors import SpecError
    from harness.progress import Progress
    from harness.report import finish_run
    from harness.runner.run import RunOptions, run_pipeline

    known = {f.name for f in fields(RunOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise SpecError(f"unknown run option {unknown[0]!r}; known: {', '.join(sorted(known))}", field=unknown[0])
    for key in ("out", "cache"):
        if options.get(key) is not None:
            options[key] = Path(options[key])
    result = run_pipeline(Path(spec), RunOptions(**options), progress=Progress())
    # the report files, and the spec's gate when it asks for one; no terminal table
    result.gate_exit_code = finish_run(result, Console(quiet=True))
    return result


def leaderboard(runs: Path | str | Iterable[Path | str]) -> pd.DataFrame:
    """One row per system (and per model-free baseline) of the given runs or runs folders; each
    metric as ``<task>/<metric>`` with ``… stderr``, ``… ci_low`` and ``… ci_high`` columns, then
    the costs.  Numbers are floats (NaN where a system has no value)."""
    import pandas as pd

    from harness.errors import SpecError
    from harness.leaderboard import collect
    from harness.leaderboard.model import COST_FIELDS

    paths = [Path(runs)] if isinstance(runs, (str, Path)) else [Path(r) for r in runs]
    for path in paths:
        if not path.exists():
            raise SpecError(f"run folder not found: {path}", field="runs")
    board = collect(paths)
    records = []
    for entry in board.entries:
        row: dict[str, Any] = {
            "run": entry.run,
            "system": entry.system,
            "kind": entry.kind,
            "model": entry.model,
            "model_source": entry.model_source,
            "adapters": entry.adapters_text(),
            "prompts": entry.prompt_format,
            "precision": entry.precision,
        }
        for column in board.columns:
            value = entry.metrics.get(column.key)
            row[column.key] = value.value if value else None
            row[f"{column.key} stderr"] = value.stderr if value else None
            row[f"{column.key} ci_low"] = value.ci_low if value else None
            row[f"{column.key} ci_high"] = value.ci_high if value else None
        for name in COST_FIELDS:
            row[name] = getattr(entry, name)
        records.append(row)
    frame = pd.DataFrame.from_records(records)
    numeric = [
        c
        for c in frame.columns
        if c not in {"run", "system", "kind", "model", "model_source", "adapters", "prompts", "precision"}
    ]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    frame.attrs["higher_is_better"] = {c.key: c.higher_is_better for c in board.columns}
    return frame


def export(run_dir: str | Path, system: str, out: str | Path, merged: bool = False) -> Path:
    """``harness export``: the system as a folder plain transformers/PEFT load (see :mod:`harness.exporter`)."""
    from harness.exporter import export_system

    return export_system(Path(run_dir), system, Path(out), merged)
