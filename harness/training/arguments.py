"""Spec ``hyperparameters`` and ``budget`` → transformers/TRL training arguments.

Every setting is explicit: TRL's SFTConfig turns gradient checkpointing on by default, so the
harness always passes ``gradient_checkpointing`` (off unless the spec asks for it).
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import SpecError

SCHEDULES = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
BUDGET = ("max_steps", "max_tokens", "epochs")
log = logging.getLogger("harness")

#: numbers must be numbers: ``"1e-3"``, ``"eight"`` or ``.nan`` in a spec are errors, not strings
#: that crash the trainer later
_Number = {"strict": True, "allow_inf_nan": False}


class Hyperparameters(BaseModel):
    """The training settings a spec may give, typed and range-checked (None: transformers' default)."""

    model_config = ConfigDict(extra="forbid")

    optimizer: str = Field("adamw_torch", min_length=1)
    learning_rate: float = Field(2e-4, ge=0, le=10, **_Number)
    lr_scheduler_type: Literal[SCHEDULES] = "linear"  # type: ignore[valid-type]
    warmup_ratio: float | None = Field(None, ge=0, lt=1, **_Number)
    warmup_steps: int | None = Field(None, ge=0, strict=True)
    weight_decay: float = Field(0.0, ge=0, le=10, **_Number)
    max_grad_norm: float = Field(1.0, gt=0, **_Number)
    per_device_train_batch_size: int = Field(8, gt=0, le=65536, strict=True)
    per_device_eval_batch_size: int | None = Field(None, gt=0, le=65536, strict=True)
    gradient_accumulation_steps: int = Field(1, gt=0, le=65536, strict=True)
    gradient_checkpointing: bool = Field(False, strict=True)
    eval_steps: int | None = Field(None, gt=0, strict=True)
    save_steps: int | None = Field(None, gt=0, strict=True)
    early_stopping_patience: int | None = Field(None, gt=0, strict=True)
    #: default: every max_steps // 8 steps, at most 10, so short runs have curves
    logging_steps: int | None = Field(None, gt=0, strict=True)
    #: SFT: longest tokenized example
    max_length: int = Field(512, gt=8, le=1 << 20, strict=True)
    #: SFT: share of instructions held out for validation loss
    eval_fraction: float = Field(0.05, ge=0, lt=1, **_Number)


#: spec name → default (None: leave to transformers)
HYPERPARAMETERS: dict[str, Any] = Hyperparameters().model_dump()


def resolve_hyperparameters(values: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in; unknown names, wrong types and out-of-range values are spec errors
    naming the field (unknown names and schedules list the valid ones)."""
    unknown = sorted(set(values) - set(HYPERPARAMETERS))
    if unknown:
        raise SpecError(
            f"unknown hyperparameter {unknown[0]!r}; valid: {', '.join(sorted(HYPERPARAMETERS))}",
            field=f"hyperparameters.{unknown[0]}",
        )
    try:
        return Hyperparameters.model_validate(values).model_dump()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])
        message = error["msg"]
        if name == "lr_scheduler_type":
            message = f"unknown lr_scheduler_type {values[name]!r}; valid: {', '.join(SCHEDULES)}"
        else:
            message = f"{message} (got {values.get(name)!r})"
        raise SpecError(message, field=f"hyperparameters.{name}") from None


def max_steps_for(budget: dict[str, Any], tokens_per_step: int | None) -> int:
    """Step limit from the budget: ``max_steps``, or ``max_tokens`` over tokens per step; -1 = epochs."""
    unknown = sorted(set(budget) - set(BUDGET))
    if unknown:
        raise SpecError(f"unknown budget key {unknown[0]!r}; valid: {', '.join(BUDGET)}", field=f"budget.{unknown[0]}")
    limits = []
    if budget.get("max_steps"):
        limits.append(int(budget["max_steps"]))
    if budget.get("max_tokens") and tokens_per_step:
        limits.append(max(1, math.ceil(budget["max_tokens"] / tokens_per_step)))
    return min(limits) if limits else -1


#: a step budget this many times the data is almost surely a typo (``max_steps: 1000000000000``)
EPOCHS_WARNING = 100


def warn_if_oversized(ctx: Any, max_steps: int, examples_per_step: int, examples: int) -> None:
    """Warn when ``max_steps`` would read the training data more than ``EPOCHS_WARNING`` times over."""
    if max_steps > 0 and examples > 0:
        epochs = max_steps * examples_per_step / examples
        if epochs > EPOCHS_WARNING:
            ctx.warn(
                f"budget.max_steps {max_steps:,} is {epochs:,.0f} passes over the {examples:,} training examples; "
                "is it a typo?"
            )


def training_arguments(
    hp: dict[str, Any],
    budget: dict[str, Any],
    output_dir: str,
    seed: int,
    max_steps: int,
    has_eval: bool,
    count_tokens: str = "all",
    precision: str = "fp32",
) -> dict[str, Any]:
    """Keyword arguments shared by ``TrainingArguments`` and TRL's ``SFTConfig``.

    ``precision`` bf16/fp16 is the Trainer's mixed precision: autocast around the forward pass,
    master weights and optimizer states in the dtype the model was loaded in."""
    import os

    import torch

    from harness.precision import trainer_flags

    # transformers 4.x's TrainingArguments writes its mixed precision into the process environment
    # (ACCELERATE_MIXED_PRECISION) and takes it back as the next one's default, so an fp32 training
    # after a bf16 one in the same process ran under bf16 autocast: set it to this run's precision
    os.environ["ACCELERATE_MIXED_PRECISION"] = precision if precision in ("bf16", "fp16") else "no"
    eval_steps = hp["eval_steps"] if has_eval else None
    # a checkpoint every 10% of the run but at most every 50 steps' worth of loss on a crash:
    # frequent saves cost real time on short CPU runs (the Trainer also saves at the last step)
    save_steps = hp["save_steps"] or max(50, (max_steps if max_steps > 0 else 500) // 10)
    if eval_steps and save_steps % eval_steps:
        # transformers keeps the best checkpoint only when saves fall on evaluation steps
        fitted = max(eval_steps, save_steps // eval_steps * eval_steps)
        if hp["save_steps"]:
            log.warning(
                "save_steps %s is not a multiple of eval_steps %s; saving every %s steps",
                save_steps,
                eval_steps,
                fitted,
            )
        save_steps = fitted
    warmup = hp["warmup_steps"] if hp["warmup_steps"] is not None else (hp["warmup_ratio"] or 0)
    args: dict[str, Any] = {
        "output_dir": output_dir,
        "seed": seed,
        "optim": hp["optimizer"],
        "learning_rate": hp["learning_rate"],
        "lr_scheduler_type": hp["lr_scheduler_type"],
        **_warmup(warmup),
        "weight_decay": hp["weight_decay"],
        "max_grad_norm": hp["max_grad_norm"],
        "per_device_train_batch_size": hp["per_device_train_batch_size"],
        "per_device_eval_batch_size": hp["per_device_eval_batch_size"] or hp["per_device_train_batch_size"],
        "gradient_accumulation_steps": hp["gradient_accumulation_steps"],
        "gradient_checkpointing": bool(hp["gradient_checkpointing"]),
        "logging_steps": hp["logging_steps"] or (max(1, min(10, max_steps // 8)) if max_steps > 0 else 10),
        "max_steps": max_steps,
        "num_train_epochs": float(budget.get("epochs") or 1.0),
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": 2,
        "report_to": "none",
        "disable_tqdm": True,
        "include_num_input_tokens_seen": count_tokens,  # "non_padding" where batches are padded
        "use_cpu": not torch.cuda.is_available(),
        "dataloader_num_workers": 0,
        **trainer_flags(precision),
    }
    if eval_steps:
        args.update(
            eval_strategy="steps",
            eval_steps=eval_steps,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
        )
    return args


def _warmup(value: float) -> dict[str, Any]:
    """Warm-up as this transformers takes it: a float below 1 is a ratio of ``warmup_steps`` in
    transformers 5 (which deprecates ``warmup_ratio``); 4.x wants ``warmup_ratio`` for that (the
    AdapterHub environment runs 4.57)."""
    from harness.models import transformers_major

    if transformers_major() < 5 and 0 < value < 1:
        return {"warmup_ratio": float(value)}
    return {"warmup_steps": value}
