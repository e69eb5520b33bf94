"""Trainer callbacks and hooks of the harness: progress display, token counting, two-adapter reloads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from harness.training.meta import PARENT_DIR

if TYPE_CHECKING:
    from harness.context import StageContext


class StepProgress(TrainerCallback):
    """Training steps shown through the harness's progress display instead of printed log dicts."""

    def __init__(self, ctx: StageContext) -> None:
        self.ctx = ctx
        self._task: Any = None
        self._advance: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Open a progress task over the remaining steps."""
        self._task = self.ctx.progress.task(f"{self.ctx.stage}: training steps", state.max_steps - state.global_step)
        self._advance = self._task.__enter__()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """One optimizer step done."""
        if self._advance is not None:
            self._advance(1)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Close the progress task."""
        if self._task is not None:
            self._task.__exit__(None, None, None)
            self._task = self._advance = None


#: beside each checkpoint: training seconds spent up to it, summed over resumed segments
CLOCK_FILE = "harness_clock.json"


class TokenCounter(TrainerCallback):
    """Remembers step and tokens seen when training (re)starts, and writes the training time spent
    so far into every checkpoint, so a resumed adapter reports its whole training, not the last
    segment's."""

    start_step = 0
    start_tokens = 0

    def __init__(self, prior_seconds: float = 0.0) -> None:
        #: training time recorded in the checkpoint this run resumed from
        self.prior_seconds = prior_seconds
        self._started = time.monotonic()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Called after a checkpoint's state was restored."""
        self.start_step = state.global_step
        self.start_tokens = int(state.num_input_tokens_seen or 0)
        self._started = time.monotonic()

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """A checkpoint was written: record the training time behind it."""
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            seconds = self.prior_seconds + time.monotonic() - self._started
            staged = folder / f".{CLOCK_FILE}.tmp"
            staged.write_text(json.dumps({"train_seconds": round(seconds, 3)}), encoding="utf-8")
            staged.replace(folder / CLOCK_FILE)


def prior_seconds(checkpoint: Path | None) -> float:
    """The training time recorded with ``checkpoint`` (0 without one)."""
    clock = checkpoint / CLOCK_FILE if checkpoint is not None else None
    if clock is None or not clock.is_file():
        return 0.0
    return float(json.loads(clock.read_text(encoding="utf-8")).get("train_seconds", 0.0))


def reload_both_adapters(trainer: Any) -> None:
    """Make the trainer restore both adapters (and keep both active) on resume and best-model load.

    transformers' Trainer reloads only ``active_adapters[0]`` from a checkpoint and then activates
    that one alone, which would drop the parent adapter of a stacked DAPT+SFT model.
    """
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    def load(checkpoint: str | None, model: Any = None) -> None:
        if not checkpoint:
            return
        target = model if model is not None else trainer.model
        for name, folder in (("default", Path(checkpoint)), ("parent", Path(checkpoint) / PARENT_DIR)):
            weights = folder / "adapter_model.safetensors"
            if weights.is_file():
                set_peft_model_state_dict(target, load_file(str(weights)), adapter_name=name)

    trainer._load_from_checkpoint = load
    trainer._load_best_model = lambda: load(trainer.state.best_model_checkpoint)
