"""The ``dapt`` and ``sft`` sections: trainer, PEFT method, hyperparameters, budget.

Any value in ``method``, ``method_options`` or ``hyperparameters`` may be a list: the harness
expands the grid into one adapter (and one system) per point.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.spec.common import Strict


class BudgetSection(Strict):
    """How long to train: the first limit reached stops training."""

    max_steps: int | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    epochs: float | None = Field(None, gt=0)


class TrainingSection(Strict):
    """One adapter-training stage."""

    enabled: bool = True
    trainer: str
    method: str | list[str] = "lora"
    method_options: dict[str, Any] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    budget: BudgetSection = Field(default_factory=BudgetSection)
    launcher: Literal["none", "accelerate"] = "none"
    accelerate_config: str | None = None
    num_processes: int = Field(1, gt=0)


class SFTSection(TrainingSection):
    """The downstream adapter: trained on the instructions, on top of the base or of DAPT."""

    trainer: str = "sft"
    #: False: DAPT adapter frozen under the new one; True: DAPT keeps training. A list sweeps both arms.
    dapt_trainable: bool | list[bool] = False
