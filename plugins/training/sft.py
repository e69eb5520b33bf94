"""``sft``: downstream instruction tuning with TRL's SFTTrainer, loss on the response only."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from harness.components import Options, Trainer

if TYPE_CHECKING:
    from harness.components import TrainJob, TrainResult
    from harness.context import StageContext


class SFTOptions(Options):
    """Options of the ``sft`` trainer."""

    #: held-out instructions per task type answered greedily after training (0: none)
    probes_per_type: int = Field(1, ge=0)
    #: new tokens per probe answer
    probe_tokens: int = Field(64, gt=0)


class SFTTrainer(Trainer):
    """Supervised fine-tuning on instruction/response pairs (prompt/completion, completion-only loss).

    After training, a few held-out instructions of each task type are answered greedily and kept
    beside the adapter (``training/probes.jsonl``, :mod:`harness.training.probes`).
    """

    Options = SFTOptions
    description = "downstream SFT on instructions (TRL SFTTrainer, response-only loss, generation probes)"
    version = "3"
    #: takes every registered PEFT method; settings are checked when the plan is built
    uses_harness_training: ClassVar[bool] = True

    def train(self, job: TrainJob, ctx: StageContext) -> TrainResult:
        """Train on ``job.train_path`` (instructions.jsonl); a held-out share gives validation loss."""
        from transformers import EarlyStoppingCallback
        from trl import SFTConfig
        from trl import SFTTrainer as TRLSFTTrainer

        from harness.training.arguments import max_steps_for, training_arguments, warn_if_oversized
        from harness.training.data import mean_sft_tokens, sft_dataset
        from harness.training.launch import world_size
        from harness.training.loop import prepare, train_and_save
        from harness.training.response_loss import response_only_trainer

        prepared = prepare(job)
        hp, tokenizer = prepared.hyperparameters, prepared.tokenizer
        fraction = hp["eval_fraction"] if hp["eval_steps"] else 0.0
        train, evaluation, chat = sft_dataset(job.train_path, tokenizer, fraction, job.seed)
        per_step = hp["per_device_train_batch_size"] * hp["gradient_accumulation_steps"] * world_size()
        estimate = (
            math.ceil(mean_sft_tokens(train, tokenizer, chat) * per_step) if prepared.budget.get("max_tokens") else None
        )
        max_steps = max_steps_for(prepared.budget, estimate)
        warn_if_oversized(ctx, max_steps, per_step, len(train))
        base = training_arguments(
            hp,
            prepared.budget,
            str(job.checkpoint_dir),
            job.seed,
            max_steps,
            evaluation is not None,
            "non_padding",
            precision=job.precision,
        )
        config = SFTConfig(**base, max_length=hp["max_length"], completion_only_loss=True, packing=False)
        callbacks = []
        if evaluation is not None and hp["early_stopping_patience"]:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=int(hp["early_stopping_patience"])))
        # the LM head on response tokens only (TRL scores every position on the CPU)
        trainer = response_only_trainer(TRLSFTTrainer)(
            model=prepared.model,
            args=config,
            train_dataset=train,
            eval_dataset=evaluation,
            processing_class=tokenizer,
            callbacks=callbacks,
        )
        result = train_and_save(job, ctx, prepared, trainer, None)
        result.metrics.update(template="chat" if chat else "plain", examples=len(train))
        if trainer.is_world_process_zero():
            self._probe(job, prepared, fraction, ctx)
        return result

    def _probe(self, job: TrainJob, prepared: Any, fraction: float, ctx: StageContext) -> None:
        """Greedy answers to held-out instructions, written to ``training/probes.jsonl``."""
        from harness.training.probes import generate_probes, pick_probes, write_probes

        o: SFTOptions = self.options  # type: ignore[assignment]
        if not o.probes_per_type:
            return
        rows = pick_probes(job.train_path, fraction, job.seed, o.probes_per_type)
        if not rows:
            ctx.warn("no held-out instructions for generation probes (set hyperparameters.eval_steps)")
            return
        probes = generate_probes(prepared.model, prepared.tokenizer, rows, o.probe_tokens, ctx)
        write_probes(job.output_dir / "training", probes)
