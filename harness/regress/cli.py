"""``harness regress`` and the gate at the end of ``harness run``.

``regress`` evaluates a candidate (the base model plus the given adapter folders) on the spec's
frozen tasks as extra systems of the normal pipeline (so it is cached like any stage),
takes the baseline's per-sample logs from a results JSON or from the baseline system's cached
evaluation, and gates the candidate with :func:`harness.regress.gate.compare`.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.errors import SpecError
from harness.names import ALLOWED, is_safe_name
from harness.paths import write_json
from harness.regress.gate import GateReport, compare
from harness.regress.samples import sample_files
from harness.training.meta import is_adapter_folder

if TYPE_CHECKING:
    from harness.runner.run import RunResult
    from harness.spec.evaluation import RegressionSection


def check_adapters(adapters: dict[str, Path]) -> dict[str, Path]:
    """Every ``--adapter NAME=PATH`` must be a PEFT folder; errors name the option (exit 2)."""
    if not adapters:
        raise SpecError("give at least one --adapter NAME=PATH", field="--adapter")
    checked = {}
    for name, path in adapters.items():
        if not is_safe_name(name):
            raise SpecError(f"adapter name {name!r} cannot name a folder: use {ALLOWED}", field="--adapter")
        path = Path(path)
        if not is_adapter_folder(path):
            raise SpecError(f"{path} is not an adapter folder (no adapter_config.json)", field=f"--adapter {name}")
        checked[name] = path.resolve()
    return checked


def results_baseline(baseline: str) -> Path | None:
    """The folder of a baseline given as a results JSON (or a results folder); None for a system name."""
    path = Path(baseline)
    if path.suffix != ".json" and not path.is_dir():
        return None
    folder = path.parent if path.suffix == ".json" else path
    if not path.exists() or not sample_files(folder):
        raise SpecError(f"{baseline} has no per-sample logs (samples/<task>.jsonl) beside it", field="--baseline")
    return folder


def read_results_format(folder: Path) -> str | None:
    """The prompt format a results folder's ``results.json`` records (None when it says none)."""
    import json

    path = folder / "results.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("prompt_format")
    except (OSError, ValueError, AttributeError):
        return None
    return value if value in ("plain", "instruction") else None


def _console() -> Console:
    """CI logs are not terminals: give the verdict tables room instead of rich's 80 columns."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def _fresh_run_id(folder: Path) -> str:
    """``regress-<UTC time>``, with a counter when two gates start in the same second."""
    stamp = "regress-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    run_id, n = stamp, 1
    while (folder / run_id).exists():
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def regress(
    spec_path: Path,
    adapters: dict[str, Path],
    baseline: str | None,
    profile: str = "auto",
    out: Path = Path("runs"),
    limit: int | None = None,
    console: Console | None = None,
    on: str | None = None,
) -> int:
    """``harness regress``: evaluate each candidate adapter on the spec's tasks and gate it against
    the baseline; 0 when every candidate passes, 1 on a significant drop beyond tolerance.

    ``on`` (``--on base+dapt``) stacks each candidate on that system's adapters (trained or taken
    from the cache like any stage), so a new downstream adapter is judged on top of the shipped
    domain adapter against the shipped pair (``--baseline base+dapt+sft``)."""
    from harness.runner.run import RunOptions, prepare, run_pipeline

    console = console or _console()
    spec_path, out = Path(spec_path), Path(out)
    adapters = check_adapters(adapters)
    _, _, loaded = prepare(spec_path, RunOptions(profile=profile, out=out))
    section = loaded.spec.regression
    baseline = baseline or section.baseline or "base"
    run_id = _fresh_run_id(out / loaded.spec.name)
    base_dir = results_baseline(baseline)
    # the candidates are asked as the baseline was: its system's prompt format, or the one its
    # results file records
    if base_dir is None:
        fmt = {s.name: s.prompt_format for s in loaded.plan.systems}.get(baseline)
    else:
        fmt = read_results_format(base_dir)
    # one run of the normal pipeline with the candidates as extra systems: with the baseline
    # system (cached when ``harness run`` already evaluated it) or, against a results file, the
    # candidates' evaluations alone
    options = RunOptions(
        profile=profile,
        out=out,
        systems=[baseline] if base_dir is None else [],
        only=[] if base_dir is None else ["eval"],
        limit=limit,
        candidates=adapters,
        candidates_on=on,
        candidates_prompt_format=fmt,
        run_id=run_id,
    )
    result = run_pipeline(spec_path, options, loaded=loaded)
    if result.run is not None and result.run.hook is not None:
        result.run.hook.run_finished(run=result.run, result=result, error=None)
    run_dir = result.run_dir
    base_dir = base_dir or run_dir / "results" / baseline
    cand_dirs = {name: run_dir / "results" / name for name in adapters}
    reports = []
    for name, cand_dir in cand_dirs.items():
        report = compare(base_dir, cand_dir, loaded.spec.evaluation.tasks, section, Path(baseline).name, name)
        report.render(console)
        reports.append(report)
    passed = all(r.passed for r in reports)
    gates = [{**r.to_dict(), "baseline_results": str(base_dir)} for r in reports]
    write_json(run_dir / "gate.json", {"passed": passed, "gates": gates})
    console.print(f"[harness] gate report: {run_dir / 'gate.json'}")
    return 0 if passed else 1


def gate_run(result: RunResult, console: Console) -> int:
    """The gate inside ``harness run``: each candidate system (``regression.candidates``, or every
    other evaluated system) against ``regression.baseline``; writes ``gate.json`` beside the run."""
    section = result.loaded.spec.regression
    baseline = section.baseline or "base"
    results = result.run_dir / "results"
    if not (results / baseline).is_dir():
        raise SpecError(f"baseline system {baseline!r} was not evaluated in this run", field="regression.baseline")
    candidates = section.candidates or sorted(p.name for p in results.iterdir() if p.is_dir() and p.name != baseline)
    reports: list[GateReport] = []
    for candidate in candidates:
        if not (results / candidate).is_dir():
            raise SpecError(
                f"candidate system {candidate!r} was not evaluated in this run", field="regression.candidates"
            )
        report = compare(
            results / baseline,
            results / candidate,
            result.loaded.spec.evaluation.tasks,
            section,
            baseline,
            candidate,
        )
        report.render(console)
        reports.append(report)
    write_json(
        result.run_dir / "gate.json",
        {"passed": all(r.passed for r in reports), "gates": [r.to_dict() for r in reports]},
    )
    return 0 if all(r.passed for r in reports) else 1


def _finished_run(run_dir: Path) -> tuple[list[str], RegressionSection, list[str] | None]:
    """A finished run's evaluated systems, its spec's ``regression`` section and evaluation tasks
    (``harness compare`` reads only these)."""
    import json

    from harness.spec.evaluation import RegressionSection

    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise SpecError(f"{run_dir} is not a run folder (no manifest.json)", field="run")
    spec = json.loads(manifest_path.read_text(encoding="utf-8")).get("spec") or {}
    results = run_dir / "results"
    evaluated = sorted(p.name for p in results.iterdir() if (p / "results.json").is_file()) if results.is_dir() else []
    section = RegressionSection(**(spec.get("regression") or {}))
    return evaluated, section, (spec.get("evaluation") or {}).get("tasks")


def compare_systems(
    run_dir: Path,
    baseline: str,
    candidates: list[str] | None = None,
    console: Console | None = None,
    render: bool = True,
) -> list[GateReport]:
    """``harness compare``: paired comparisons between systems of one finished run (no evaluation).

    Uses the run's per-sample logs and its spec's ``regression`` section (alpha, tolerances); every
    other evaluated system is a candidate unless ``candidates`` names some.  Writes nothing.
    """
    console = console or _console()
    run_dir = Path(run_dir)
    evaluated, section, tasks = _finished_run(run_dir)
    for name in [baseline, *(candidates or [])]:
        if name not in evaluated:
            raise SpecError(f"{name!r} was not evaluated in {run_dir}; systems: {', '.join(evaluated)}", field="system")
    results = run_dir / "results"
    reports = []
    for name in candidates or [n for n in evaluated if n != baseline]:
        report = compare(results / baseline, results / name, tasks, section, baseline, name)
        if render:
            report.render(console)
        reports.append(report)
    return reports


def compare_runs(
    run_dir: Path,
    other_dir: Path,
    systems: list[str] | None = None,
    console: Console | None = None,
    render: bool = True,
) -> list[GateReport]:
    """``harness compare RUN --against OTHER``: each system of ``run_dir`` (the baseline) paired
    with the same system of ``other_dir`` on the same items — the same spec run twice with one
    setting changed (``--precision bf16``, another seed, another machine).  Writes nothing."""
    console = console or _console()
    run_dir, other_dir = Path(run_dir), Path(other_dir)
    evaluated, section, tasks = _finished_run(run_dir)
    other, _, _ = _finished_run(other_dir)
    shared = sorted(set(evaluated) & set(other))
    for name in systems or []:
        if name not in shared:
            raise SpecError(f"{name!r} was not evaluated in both runs; both have: {', '.join(shared)}", field="system")
    if not shared:
        raise SpecError(f"{run_dir} and {other_dir} evaluated no system in common", field="--against")
    reports = []
    for name in systems or shared:
        report = compare(
            run_dir / "results" / name,
            other_dir / "results" / name,
            tasks,
            section,
            f"{name} ({run_dir.name})",
            f"{name} ({other_dir.name})",
        )
        if render:
            report.render(console)
        reports.append(report)
    return reports
