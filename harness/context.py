"""What a running stage hands to its components: folders, seed, device, progress and reporting."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.progress import Progress

T = TypeVar("T")
log = logging.getLogger("harness")


@dataclass
class StageContext:
    """Per-stage services for components.

    ``workdir`` is where the stage writes its outputs (a temporary folder renamed on success);
    ``scratch`` survives an interrupted run (checkpoints) and is keyed like the stage;
    ``base_dir`` resolves relative paths in the spec (the spec file's folder).
    """

    stage: str
    workdir: Path
    scratch: Path
    base_dir: Path
    seed: int = 0
    device: str = "cpu"
    progress: Progress = field(default_factory=Progress)
    #: per-input fate for the corpus report: input id → {"status": ..., "reason": ...}
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: ``transformers.TrainerCallback`` objects plugins add to a training stage's trainer
    trainer_callbacks: list[Any] = field(default_factory=list)
    #: the spec's ``tracking.report_to``: transformers' reporting integrations for the trainers
    report_to: list[str] = field(default_factory=list)

    def report_input(self, input_id: str, status: str, reason: str = "", **extra: Any) -> None:
        """Record what became of one input (loaded, skipped, dropped), for the reports."""
        self.inputs[input_id] = {"status": status, "reason": reason, **extra}

    def warn(self, message: str) -> None:
        """A warning that goes to the log and to the stage record."""
        log.warning("%s: %s", self.stage, message)
        self.warnings.append(message)

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Iterate with a progress bar (rich on a terminal, log lines otherwise)."""
        return self.progress.track(items, description=description, total=total)
