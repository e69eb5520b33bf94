"""Built-in trainers: ``causal_lm`` (DAPT, transformers Trainer) and ``sft`` (TRL SFTTrainer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import hookimpl
from harness_plugins.training.causal_lm import CausalLMTrainer
from harness_plugins.training.sft import SFTTrainer

if TYPE_CHECKING:
    from harness.hookspecs import Register


@hookimpl
def register_trainers(register: Register) -> None:
    """Register the built-in trainers."""
    register("causal_lm", CausalLMTrainer)
    register("sft", SFTTrainer)
