"""The regression gate: compare a candidate's per-sample logs with the baseline's, metric by metric,
and say better / same / worse with the difference, its 95% CI and a p-value.

A metric is *worse* when the drop is significant (p < alpha) and larger than its tolerance; the
gate passes when no metric is worse.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import DataError
from harness.regress.samples import align, load_task, sample_files
from harness.regress.stats import aggregate_for, compare_paired

if TYPE_CHECKING:
    from rich.console import Console

    from harness.spec.evaluation import RegressionSection


@dataclass
class MetricVerdict:
    """The gate's finding for one task metric."""

    task: str
    metric: str
    filter: str
    higher_is_better: bool
    baseline: float
    candidate: float
    difference: float  # candidate − baseline, in the metric's units
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n: int
    tolerance: float
    verdict: str  # better | same | worse
    note: str = ""

    @property
    def key(self) -> str:
        """``task/metric`` (``,filter`` when not ``none``)."""
        return f"{self.task}/{self.metric}" + ("" if self.filter == "none" else f",{self.filter}")


@dataclass
class GateReport:
    """Every metric's verdict; ``passed`` is False when any metric is worse."""

    baseline: str
    candidate: str
    alpha: float
    verdicts: list[MetricVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no metric dropped significantly beyond its tolerance."""
        return not self.worse

    @property
    def worse(self) -> list[MetricVerdict]:
        """The failing metrics."""
        return [v for v in self.verdicts if v.verdict == "worse"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (written as ``gate.json``)."""
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "alpha": self.alpha,
            "passed": self.passed,
            "verdicts": [{**asdict(v), "key": v.key} for v in self.verdicts],
            "notes": list(self.notes),
        }

    def render(self, console: Console) -> None:
        """Print a table of verdicts and a one-line outcome naming the failing metrics."""
        from rich.markup import escape
        from rich.table import Table

        # system names such as "base+dapt+sft[dapt_trainable=True]" are not rich markup
        candidate, baseline = escape(self.candidate), escape(self.baseline)
        table = Table(title=f"regression gate: {candidate} vs {baseline} (alpha {self.alpha})")
        for title in (
            "metric",
            "baseline",
            "candidate",
            "difference [95% CI]",
            "p",
            "test",
            "tolerance",
            "verdict",
        ):
            table.add_column(title, justify="left" if title in ("metric", "test", "verdict") else "right")
        styles = {"better": "green", "same": "", "worse": "bold red"}
        for v in self.verdicts:
            arrow = "↑" if v.higher_is_better else "↓"
            table.add_row(
                f"{v.key} {arrow}",
                _fmt(v.baseline),
                _fmt(v.candidate),
                f"{v.difference:+.4g} [{v.ci_low:+.4g}, {v.ci_high:+.4g}]",
                f"{v.p_value:.3g}",
                f"{v.test} (n={v.n})",
                _fmt(v.tolerance),
                f"[{styles[v.verdict]}]{v.verdict}[/]" if styles[v.verdict] else v.verdict,
            )
        console.print(table)
        for note in self.notes + [f"{v.key}: {v.note}" for v in self.verdicts if v.note]:
            console.print(f"[dim]{escape(note)}[/dim]")
        if self.passed:
            console.print(
                f"[green]gate passed[/green]: no metric of {candidate} is significantly worse than {baseline}"
            )
        else:
            names = ", ".join(v.key for v in self.worse)
            console.print(
                f"[bold red]gate failed[/bold red]: {candidate} is significantly worse than {baseline} on {names}"
            )


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def tolerance_for(section: RegressionSection, task: str, metric: str) -> float:
    """Most specific tolerance: ``task/metric``, then ``metric``, then ``default``, else 0."""
    for key in (f"{task}/{metric}", metric, "default"):
        if key in section.tolerances:
            return float(section.tolerances[key])
    return 0.0


def _selected(section: RegressionSection, task: str, metric: str) -> bool:
    return section.metrics is None or f"{task}/{metric}" in section.metrics or metric in section.metrics


def _tasks(base_dir: Path, cand_dir: Path, tasks: list[str] | None) -> list[str]:
    base_files, cand_files = sample_files(base_dir), sample_files(cand_dir)
    if not base_files:
        raise DataError("no per-sample logs (samples/<task>.jsonl) for the baseline", file=str(base_dir))
    if not cand_files:
        raise DataError("no per-sample logs (samples/<task>.jsonl) for the candidate", file=str(cand_dir))
    common = sorted(set(base_files) & set(cand_files))
    if not tasks:
        return common
    from harness.evaluation.catalog import expand

    # a requested name may be a shipped group (expanded to its tasks, nested groups included); a
    # name that is neither a logged task nor a shipped group is a user group: all logged tasks count
    wanted: list[str] = []
    for name in tasks:
        members = [name] if name in common else [t for t in expand(name) if t in common]
        if not members and name not in common and expand(name) == [name]:
            return common
        wanted += [t for t in members if t not in wanted]
    return wanted if wanted else common


def compare(
    baseline_samples_dir: Path,
    candidate_samples_dir: Path,
    tasks: list[str] | None,
    regression_section: RegressionSection,
    baseline_name: str = "baseline",
    candidate_name: str = "candidate",
) -> GateReport:
    """Compare two results folders on every metric of every task both have per-sample logs for."""
    section = regression_section
    report = GateReport(baseline_name, candidate_name, section.alpha)
    base_files, cand_files = sample_files(baseline_samples_dir), sample_files(candidate_samples_dir)
    for task in _tasks(Path(baseline_samples_dir), Path(candidate_samples_dir), tasks):
        base = load_task(baseline_samples_dir, task, base_files[task])
        cand = load_task(candidate_samples_dir, task, cand_files[task])
        for metric in sorted(set(base.metrics) & set(cand.metrics)):
            if not _selected(section, task, metric):
                continue
            by_filter: dict[str, tuple[dict, dict]] = {}
            for key, value in base.metrics[metric].items():
                by_filter.setdefault(key[1], ({}, {}))[0][key] = value
            for key, value in cand.metrics[metric].items():
                by_filter.setdefault(key[1], ({}, {}))[1][key] = value
            for filter_, (base_values, cand_values) in sorted(by_filter.items()):
                verdict = _verdict(
                    task,
                    metric,
                    filter_,
                    base_values,
                    cand_values,
                    base.higher_is_better[metric],
                    section,
                    report,
                )
                if verdict is not None:
                    report.verdicts.append(verdict)
    if not report.verdicts:
        raise DataError(
            "baseline and candidate share no comparable per-sample metric",
            file=f"{baseline_samples_dir} vs {candidate_samples_dir}",
        )
    return report


def _verdict(
    task: str,
    metric: str,
    filter_: str,
    base_values: dict,
    cand_values: dict,
    higher_is_better: bool,
    section: RegressionSection,
    report: GateReport,
) -> MetricVerdict | None:
    base_list, cand_list, unmatched = align(base_values, cand_values)
    name = f"{task}/{metric}"
    if not base_list:
        report.notes.append(f"{name}: no items in common; not compared")
        return None
    aggregate = aggregate_for(metric, base_list[0])
    if aggregate is None:
        report.notes.append(f"{name}: per-sample values are not numbers (corpus-level metric); not compared")
        return None
    result = compare_paired(
        np.asarray(base_list, dtype=float),
        np.asarray(cand_list, dtype=float),
        aggregate,
        iterations=section.bootstrap_iters,
        seed=section.seed,
    )
    tolerance = tolerance_for(section, task, metric)
    gain = result.difference if higher_is_better else -result.difference
    significant = result.p_value < section.alpha
    note = f"{unmatched} items only on one side were left out" if unmatched else ""
    if significant and gain < -tolerance:
        verdict = "worse"
    elif significant and gain > 0:
        verdict = "better"
    else:
        verdict = "same"
        if significant and gain < 0:
            note = "; ".join(filter(None, [note, f"significant drop within tolerance {tolerance:g}"]))
    return MetricVerdict(
        task=task,
        metric=metric,
        filter=filter_,
        higher_is_better=higher_is_better,
        baseline=result.baseline,
        candidate=result.candidate,
        difference=result.difference,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        p_value=result.p_value,
        test=result.test,
        n=result.n,
        tolerance=tolerance,
        verdict=verdict,
        note=note,
    )
