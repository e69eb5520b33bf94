"""The leaderboard model: one entry per evaluated system of each run, metric columns across tasks.

Every report format renders this model; nothing here knows about files or formats.  Values are
kept as numbers (None where a run did not measure something) so that each format decides how to
print them, and ``best`` is computed once for all formats.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

#: metric names where a smaller number is better when results do not say (lm-eval usually does)
LOWER_IS_BETTER_HINTS = ("perplexity", "bits_per_byte", "loss", "ter", "wer", "cer")


def default_higher_is_better(metric: str) -> bool:
    """Guess the direction of a metric from its name (used only when results carry none)."""
    return not any(hint in metric for hint in LOWER_IS_BETTER_HINTS)


@dataclass(frozen=True)
class MetricColumn:
    """One task metric (lm-eval ``metric,filter``) shown as a leaderboard column."""

    task: str
    metric: str
    filter: str = "none"
    higher_is_better: bool = True
    #: the title of the task's group ("Mexican law", "general Spanish"); empty for other tasks
    group: str = ""

    @property
    def key(self) -> str:
        """Column id: ``task/metric``, with ``,filter`` when the filter is not lm-eval's ``none``."""
        suffix = "" if self.filter == "none" else f",{self.filter}"
        return f"{self.task}/{self.metric}{suffix}"


@dataclass
class MetricValue:
    """A task metric of one system: the value, lm-eval's bootstrap stderr and the 95% CI."""

    value: float
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass
class AdapterInfo:
    """One adapter of a system as the manifest describes it."""

    name: str
    role: str = ""
    method: str = ""
    #: what the method plugin says beside its name (``PEFT VeraConfig``, ``…stand-in for BitFit``)
    method_label: str = ""
    rank: int | None = None
    #: what ``rank`` counts: ``r`` (LoRA family) or ``tokens`` (prefix / prompt tuning)
    rank_name: str = "r"
    parent: str | None = None
    parent_trainable: bool = False
    efficiency: dict[str, Any] = field(default_factory=dict)
    #: loss curve rows from ``training/loss.csv`` (step plus train/validation loss columns)
    loss_curve: list[dict[str, float]] = field(default_factory=list)
    #: greedy answers to held-out instructions (``training/probes.jsonl``; SFT adapters)
    probes: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """Short label: ``lora r=8 on dapt (frozen)``, ``beft (PEFT BeftConfig, stand-in for BitFit)``."""
        text = self.method or self.name
        if self.method_label:
            text += f" ({self.method_label})"
        if self.rank is not None:
            text += f" {self.rank_name}={self.rank}"
        if self.parent:
            text += f" on {self.parent} ({'trainable' if self.parent_trainable else 'frozen'})"
        return text


@dataclass
class Entry:
    """One row: a system of one run, its metrics and what its adapters cost."""

    run: str  # "<benchmark>/<run_id>"
    system: str
    model: str  # base model reference
    model_source: str  # model source component that provided it, with its notes
    adapters: list[AdapterInfo] = field(default_factory=list)
    composition: str = ""
    #: how task prompts were given: ``plain`` or ``instruction`` (the SFT format)
    prompt_format: str = "plain"
    #: compute precision of the evaluation (``fp32`` for runs from before it was recorded)
    precision: str = "fp32"
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    trainable_params: int | None = None
    total_params: int | None = None
    trainable_pct: float | None = None
    train_seconds: float | None = None
    tokens_per_second: float | None = None
    peak_memory_mb: float | None = None
    eval_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    #: ``system`` (a model the run evaluated) or ``baseline`` (a model-free reader of the same items)
    kind: str = "system"

    def adapters_text(self) -> str:
        """All adapters, bottom first: ``dapt: lora r=8; sft: lora r=8 on dapt (frozen)``."""
        if not self.adapters:
            return "none"
        return "; ".join(f"{a.name}: {a.describe()}" for a in self.adapters)


#: an entry's cost figures, in the order the CSV format and the API's DataFrame give them
COST_FIELDS = (
    "trainable_params",
    "total_params",
    "train_seconds",
    "tokens_per_second",
    "peak_memory_mb",
    "eval_seconds",
)


@dataclass
class RunSummary:
    """What the leaderboard says about a run as a whole."""

    run: str
    path: str
    created: str = ""
    profile: str = ""
    seed: int | None = None
    git_sha: str = ""
    hardware: dict[str, Any] = field(default_factory=dict)


#: cost columns shown after the metrics: (attribute, title, higher_is_better)
COST_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("trainable_params", "trainable params", False),
    ("train_seconds", "train time (s)", False),
    ("tokens_per_second", "tokens/s", True),
    ("peak_memory_mb", "peak memory (MB)", False),
    ("eval_seconds", "eval time (s)", False),
)


@dataclass
class Leaderboard:
    """Entries in run order then system order; metric columns sorted by task then metric."""

    runs: list[RunSummary] = field(default_factory=list)
    columns: list[MetricColumn] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def best(self, key: str) -> set[int]:
        """Indices of the entries holding the best value of a metric column (ties all win)."""
        column = next((c for c in self.columns if c.key == key), None)
        if column is None:
            raise KeyError(key)
        values = {i: e.metrics[key].value for i, e in enumerate(self.entries) if _usable(e.metrics.get(key))}
        return _argbest(values, column.higher_is_better)

    def best_cost(self, attribute: str, higher_is_better: bool) -> set[int]:
        """Indices of the entries with the best value of a cost column; systems that trained nothing
        (no adapters) are left out, so the bare base model never 'wins' on cost."""
        values = {
            i: getattr(e, attribute)
            for i, e in enumerate(self.entries)
            if e.adapters and isinstance(getattr(e, attribute), (int, float))
        }
        return _argbest(values, higher_is_better)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the ``json`` format writes it with sorted keys)."""
        return {
            "runs": [asdict(r) for r in self.runs],
            "columns": [{**asdict(c), "key": c.key} for c in self.columns],
            "entries": [asdict(e) for e in self.entries],
            "best": {c.key: sorted(self.best(c.key)) for c in self.columns},
            "notes": list(self.notes),
        }


def _usable(value: MetricValue | None) -> bool:
    return value is not None and isinstance(value.value, (int, float)) and math.isfinite(value.value)


def _argbest(values: dict[int, float], higher_is_better: bool) -> set[int]:
    if not values:
        return set()
    target = max(values.values()) if higher_is_better else min(values.values())
    return {i for i, v in values.items() if v == target}
