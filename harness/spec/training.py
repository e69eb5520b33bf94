"""The ``dapt`` and ``sft`` sections: trainer, PEFT method, hyperparameters, budget.

Any value in ``method``, ``method_options`` or ``hyperparameters`` may be a list: the harness
expands the grid into one adapter (and one system) per point.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.spec.common import ComponentRef, Strict


class BudgetSection(Strict):
    """How long to train: the first limit reached stops training.  A list is a sweep, as for
    hyperparameters: one adapter per value (``max_steps: [50, 150]``)."""

    max_steps: int | list[int] | None = None
    max_tokens: int | list[int] | None = None
    epochs: float | list[float] | None = None

    @field_validator("max_steps", "max_tokens", "epochs")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            raise ValueError("an empty list sweeps nothing")
        for item in values:
            if item is not None and item <= 0:
                raise ValueError(f"must be > 0 (got {item})")
        return value


class TrainingSection(Strict):
    """One adapter-training stage."""

    enabled: bool = True
    #: the trainer component: a name, or ``{name: sft, options: {probes_per_type: 2}}``
    trainer: ComponentRef
    method: str | list[str] = "lora"
    method_options: dict[str, Any] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    #: per-method overrides of ``hyperparameters`` for a method sweep, e.g. ``{ia3: {learning_rate:
    #: 3.0e-3}}``: methods differ in the learning rate they need, while the budget stays the same
    method_hyperparameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    budget: BudgetSection = Field(default_factory=BudgetSection)
    #: ``accelerate``: run the trainer under ``accelerate launch`` (DDP; FSDP/DeepSpeed through
    #: ``accelerate_config``, an accelerate config file); CPU-only machines use gloo processes.
    launcher: Literal["none", "accelerate"] = "none"
    accelerate_config: str | None = None
    num_processes: int = Field(1, gt=0)

    @model_validator(mode="after")
    def _method_hyperparameters(self) -> TrainingSection:
        methods = self.method if isinstance(self.method, list) else [self.method]
        unknown = sorted(set(self.method_hyperparameters) - set(methods))
        if unknown:
            raise ValueError(
                f"method_hyperparameters names {', '.join(unknown)}, not among the methods ({', '.join(methods)})"
            )
        return self

    @model_validator(mode="after")
    def _launcher_settings(self) -> TrainingSection:
        if self.launcher != "accelerate" and (self.num_processes > 1 or self.accelerate_config):
            raise ValueError("num_processes > 1 and accelerate_config need launcher: accelerate")
        return self


class SFTSection(TrainingSection):
    """The downstream adapter: trained on the instructions, on top of the base or of DAPT."""

    trainer: ComponentRef = Field(default_factory=lambda: ComponentRef(name="sft"))
    #: False: DAPT adapter frozen under the new one; True: DAPT keeps training. A list sweeps both arms.
    dapt_trainable: bool | list[bool] = False
