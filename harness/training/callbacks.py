"""Trainer callbacks and hooks of the harness: progress display, token counting, two-adapter reloads."""

from __future__ import annotations

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


class TokenCounter(TrainerCallback):
    """Remembers step and tokens seen when training (re)starts, to count only this run's work."""

    start_step = 0
    start_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Called after a checkpoint's state was restored."""
        self.start_step = state.global_step
        self.start_tokens = int(state.num_input_tokens_seen or 0)


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
