"""The ``evaluation``, ``report`` and ``regression`` sections."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt

from harness.spec.common import ComponentRef, Strict


class EvaluationSection(Strict):
    """Which lm-eval tasks every system runs, and how."""

    tasks: list[str] = Field(min_length=1)
    limit: int | None = Field(None, gt=0)
    task_limits: dict[str, PositiveInt] = Field(default_factory=dict)
    batch_size: int = Field(8, gt=0)
    #: memory one scoring batch may use, in MiB (batches are cut to fit; the results do not
    #: change, so it is not part of any cache key); default: half of what is available
    memory_limit_mb: int | None = Field(None, gt=0)
    num_fewshot: int | None = Field(None, ge=0)
    bootstrap_iters: int = Field(1000, ge=0)
    max_gen_toks: int = Field(32, gt=0)
    metric_options: dict[str, Any] = Field(default_factory=dict)
    #: how task prompts reach a system: ``plain`` text (zero-shot completion), or the
    #: ``instruction`` format the SFT trainer used (chat template, or the plain
    #: ``### Instrucción:`` template); ``auto``: instruction for systems with an SFT adapter.
    #: Perplexity has no prompt and is the same either way.  A system may override it.
    prompt_format: Literal["auto", "plain", "instruction"] = "auto"


class ReportSection(Strict):
    """Leaderboard formats written beside the run (``terminal`` is printed)."""

    formats: list[str] = Field(default_factory=lambda: ["terminal", "md", "csv", "json", "html"])


class TrackingSection(Strict):
    """Experiment tracking: off unless asked for.

    ``trackers`` are harness tracker components (``mlflow``: params, every stage's figures, the
    training curves, the leaderboard and the artifacts of the run).  ``report_to`` goes to the
    trainers' ``TrainingArguments.report_to`` (transformers' own integrations: ``tensorboard``,
    ``wandb``, ``mlflow`` …); it changes what is logged, not what is trained, so it is not part of
    any cache key.
    """

    trackers: list[ComponentRef] = Field(default_factory=list)
    report_to: list[str] = Field(default_factory=list)


class RegressionSection(Strict):
    """The regression gate: baseline system, per-metric tolerances, significance level.

    ``tolerances`` maps ``task/metric``, ``metric`` or ``default`` to the largest drop (in the
    metric's own units, e.g. 0.02 accuracy or 1.5 perplexity) that still passes when significant.
    ``metrics`` restricts the gate to those ``task/metric`` or ``metric`` names.
    """

    baseline: str | None = None
    alpha: float = Field(0.05, gt=0, lt=1)
    tolerances: dict[str, float] = Field(default_factory=dict)
    metrics: list[str] | None = None
    bootstrap_iters: int = Field(2000, ge=100)
    seed: int = 0
    #: also gate every trained system against the baseline at the end of ``harness run``
    gate_in_run: bool = False
    candidates: list[str] = Field(default_factory=list)
