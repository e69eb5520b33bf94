"""``causal_lm``: domain-adaptive pretraining (DAPT) on packed blocks with transformers' Trainer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from harness.components import Trainer
from harness.training.launch import world_size

if TYPE_CHECKING:
    from harness.components import TrainJob, TrainResult
    from harness.context import StageContext


class CausalLMTrainer(Trainer):
    """Continued pretraining: next-token loss on every token of fixed-length corpus blocks."""

    description = "DAPT: causal-LM loss on packed corpus blocks (transformers Trainer)"
    version = "1"
    #: takes every registered PEFT method; settings are checked when the plan is built
    uses_harness_training: ClassVar[bool] = True

    def train(self, job: TrainJob, ctx: StageContext) -> TrainResult:
        """Train on ``job.train_path`` (blocks parquet), validating on ``job.eval_path`` if asked."""
        from transformers import EarlyStoppingCallback, TrainingArguments, default_data_collator
        from transformers import Trainer as HFTrainer

        from harness.training.arguments import max_steps_for, training_arguments, warn_if_oversized
        from harness.training.data import load_blocks
        from harness.training.loop import prepare, train_and_save

        prepared = prepare(job)
        hp = prepared.hyperparameters
        train = load_blocks(job.train_path)
        wants_eval = bool(hp["eval_steps"]) and job.eval_path is not None and job.eval_path.is_file()
        evaluation = load_blocks(job.eval_path) if wants_eval else None
        block = len(train[0]["input_ids"])
        tokens_per_step = block * hp["per_device_train_batch_size"] * hp["gradient_accumulation_steps"] * world_size()
        max_steps = max_steps_for(prepared.budget, tokens_per_step)
        warn_if_oversized(ctx, max_steps, tokens_per_step // block, len(train))
        args = TrainingArguments(
            **training_arguments(
                hp,
                prepared.budget,
                str(job.checkpoint_dir),
                job.seed,
                max_steps,
                evaluation is not None,
                precision=job.precision,
            )
        )
        callbacks = []
        if evaluation is not None and hp["early_stopping_patience"]:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=int(hp["early_stopping_patience"])))
        trainer = HFTrainer(
            model=prepared.model,
            args=args,
            train_dataset=train,
            eval_dataset=evaluation,
            data_collator=default_data_collator,
            callbacks=callbacks,
        )
        result = train_and_save(job, ctx, prepared, trainer, tokens_per_step)
        result.metrics.update(block_length=block, tokens_per_step=tokens_per_step)
        return result
