"""What both trainers share: load the base (4-bit for QLoRA), put the adapters on, train with
resumable checkpoints, save a standard PEFT folder with loss curves and efficiency figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, SpecError
from harness.training.arguments import resolve_hyperparameters
from harness.training.callbacks import CLOCK_FILE, StepProgress, TokenCounter, prior_seconds, reload_both_adapters
from harness.training.compose import merge_into_base, torch_dtype
from harness.training.efficiency import (
    PeakMemory,
    Stopwatch,
    folder_size,
    loss_rows,
    parameter_figures,
    write_efficiency,
    write_loss_curves,
)
from harness.training.meta import PARENT_DIR, check_adapter_folder, make_portable, write_meta
from harness.training.methods import adapter_kind, build_method, method_of_folder

if TYPE_CHECKING:
    from harness.components import PeftMethod, TrainJob, TrainResult
    from harness.context import StageContext


class TrainingOutOfMemory(HarnessError):
    """Training ran out of memory (exit 2: the spec asks for more than the machine has)."""

    exit_code = 2


@dataclass
class Prepared:
    """The model with its adapters on, ready for a transformers/TRL trainer."""

    model: Any
    tokenizer: Any
    options: dict[str, Any]
    hyperparameters: dict[str, Any]
    budget: dict[str, Any]
    parent: dict[str, Any] = field(default_factory=dict)
    #: the PEFT method component that built the adapter (it saves it too)
    method: Any = None


def prepare(job: TrainJob) -> Prepared:
    """Validate method, options and hyperparameters; load the base and attach the adapters."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    method = job.peft if job.peft is not None else build_method(job.method, job.method_options)
    values = dict(job.hyperparameters)
    budget = values.pop("budget", {}) or {}
    hp = resolve_hyperparameters(values)
    tokenizer = AutoTokenizer.from_pretrained(job.model.path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # non-quantized layers stay ``dtype`` master weights; autocast handles their matmuls
    load: dict[str, Any] = {"dtype": torch_dtype(job.dtype), **method.load_kwargs(job.precision)}
    model = AutoModelForCausalLM.from_pretrained(job.model.path, **load)
    model.config.use_cache = False
    method.check_model(model)
    model = method.prepare_base(model, bool(hp["gradient_checkpointing"]))
    # adapter weights are initialised randomly (LoRA's A, prompt embeddings): seed them, or two runs
    # of one spec train different adapters (Trainer seeds only later, when it is built)
    set_seed(job.seed)
    peft_model, parent = _attach(model, method, job)
    if hp["gradient_checkpointing"] and not method.prompt_learning:
        peft_model.enable_input_require_grads()
    options = method.record(peft_model)
    # peft checks the base's vocabulary at every save (checkpoints too) through this path: keep it
    # the local copy, not the hub id a loaded parent adapter names (no hub lookup at run time);
    # the saved adapter_config.json gets the id afterwards (make_portable)
    for config in getattr(peft_model, "peft_config", {}).values():
        config.base_model_name_or_path = str(job.model.path)
    return Prepared(peft_model, tokenizer, options, hp, budget, parent, method)


def _attach(model: Any, method: PeftMethod, job: TrainJob) -> tuple[Any, dict[str, Any]]:
    """New adapter ``default``, on top of the parent adapter when the job has one.

    Same method kind, and the method stacks: both live in one model, both active, the parent
    trainable or frozen.  Otherwise a frozen parent is merged into the base (where its method
    merges) and the new adapter goes on the merged model.
    """
    if not job.init_adapters:
        return method.attach(model, str(job.model.path)), {}
    (name, (folder, trainable)), *rest = job.init_adapters.items()
    if rest:
        raise SpecError("only one parent adapter is supported", field="sft")
    check_adapter_folder(folder, job.model)
    kind, new_kind = adapter_kind(folder), method.peft_type
    parent_method = method_of_folder(folder)
    info = {"name": name, "path": str(folder), "trainable": trainable, "peft_type": kind}
    if kind == new_kind and method.stackable and parent_method.stackable:
        stacked = method.stack_for_training(model, Path(folder), trainable, str(job.model.path))
        return stacked, {**info, "composition": "stacked"}
    if trainable:
        why = (
            f"{job.method} adapters do not stack"
            if kind == new_kind
            else f"the SFT method's kind ({new_kind}) is not the DAPT adapter's ({kind})"
        )
        raise SpecError(
            f"the trainable-DAPT arm needs the DAPT adapter and the new one active together in one model: {why}",
            field="sft.method",
        )
    if method.quantized:
        raise SpecError("a QLoRA adapter cannot sit on a merged parent of another PEFT type", field="sft.method")
    merged = merge_into_base(model, [Path(folder)], job.model)
    return method.attach(merged, str(job.model.path)), {**info, "composition": "merged"}


def last_checkpoint(folder: Path) -> Path | None:
    """Newest complete checkpoint, or None.

    A checkpoint is complete once the harness's clock file is beside it: the Trainer writes the
    weights, optimizer and ``trainer_state.json`` first and calls ``on_save`` after, so a run killed
    in between leaves a checkpoint whose training time is unknown; the one before it is taken.
    """
    if not folder.is_dir():
        return None
    found = []
    for path in folder.iterdir():
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and (path / "trainer_state.json").is_file() and (path / CLOCK_FILE).is_file():
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM, or the CPU allocator failing."""
    import torch

    text = str(exc)
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text


def train_and_save(
    job: TrainJob, ctx: StageContext, prepared: Prepared, trainer: Any, tokens_per_step: int | None
) -> TrainResult:
    """Run ``trainer`` (resuming from the newest checkpoint), then save adapter, curves and figures."""
    from harness.components import TrainResult

    resume = last_checkpoint(job.checkpoint_dir)
    start_step = int(resume.name.split("-")[1]) if resume else 0
    if resume:
        ctx.warn(f"resuming from {resume.name}")
    from transformers.trainer_callback import PrinterCallback

    if prepared.parent.get("composition") == "stacked" and prepared.method.peft_backed:
        reload_both_adapters(trainer)
    counter = TokenCounter(prior_seconds(resume))
    trainer.add_callback(counter)
    trainer.remove_callback(PrinterCallback)
    add_tracking(trainer, ctx)
    if trainer.is_world_process_zero():
        trainer.add_callback(StepProgress(ctx))
    try:
        with PeakMemory() as memory, Stopwatch() as clock:
            training_loss = _train(trainer, resume, start_step, counter)
    except (RuntimeError, MemoryError) as exc:
        if not is_out_of_memory(exc):
            raise
        raise TrainingOutOfMemory(
            f"training ran out of memory ({str(exc).splitlines()[0][:120]}); try method qlora, a smaller "
            "hyperparameters.per_device_train_batch_size (with more gradient_accumulation_steps) or "
            "hyperparameters.gradient_checkpointing: true",
            field=f"{ctx.stage}.hyperparameters",
        ) from None
    state = trainer.state
    steps_run = state.global_step - counter.start_step
    # figures of the whole training: a resumed run adds the segments before it (the tokens the
    # restored state has seen, the time recorded with the checkpoint)
    tokens = int(state.num_input_tokens_seen or 0) or state.global_step * (tokens_per_step or 0)
    seconds = counter.prior_seconds + clock.seconds
    metrics: dict[str, Any] = {
        **parameter_figures(prepared.model),
        **prepared.method.cost(prepared.model),
        **memory.figures(),
        "wall_time_s": round(seconds, 2),
        "wall_time_this_run_s": round(clock.seconds, 2),
        "cpu_time_s": round(clock.cpu_seconds, 2),
        "train_tokens": tokens,
        "train_tokens_per_s": round(tokens / seconds, 2) if seconds else 0.0,
        "tokens_this_run": int(state.num_input_tokens_seen or 0) - counter.start_tokens,
        "global_step": state.global_step,
        "steps_this_run": steps_run,
        "resumed_from_step": start_step,
        "train_loss": round(training_loss, 5) if training_loss is not None else None,
        "best_eval_loss": state.best_metric,
        "world_size": trainer.args.world_size,
        "distributed_backend": _backend(),
        "base_4bit_layers": sum(
            type(m).__name__ == "Linear4bit" and type(m).__module__.startswith("bitsandbytes")
            for m in prepared.model.modules()
        ),
    }
    rows = loss_rows(state.log_history)
    if trainer.is_world_process_zero():
        _save(job, prepared, metrics, rows)
    return TrainResult(metrics=metrics, loss_curve=rows)


def add_tracking(trainer: Any, ctx: StageContext) -> None:
    """The spec's ``tracking.report_to`` integrations and the plugins' ``trainer_callbacks``.

    ``report_to`` is applied here rather than in ``TrainingArguments`` (built ``"none"``), so that
    what is logged stays out of the training stage's cache key."""
    if ctx.report_to:
        from transformers.integrations import get_reporting_integration_callbacks

        trainer.args.report_to = list(ctx.report_to)
        for callback in get_reporting_integration_callbacks(list(ctx.report_to)):
            trainer.add_callback(callback)
    for callback in ctx.trainer_callbacks:
        trainer.add_callback(callback)


def _train(trainer: Any, resume: Path | None, start_step: int, counter: TokenCounter) -> float | None:
    """``trainer.train``, except when the checkpoint already reached the step limit (killed while
    saving the result): then restore it without training on, which transformers would do one step of."""
    if resume is None or trainer.args.max_steps <= 0 or start_step < trainer.args.max_steps:
        return float(trainer.train(resume_from_checkpoint=str(resume) if resume else None).training_loss)
    from transformers import TrainerState

    trainer._load_from_checkpoint(str(resume))
    trainer.state = TrainerState.load_from_json(str(resume / "trainer_state.json"))
    if trainer.args.load_best_model_at_end and trainer.state.best_model_checkpoint:
        trainer._load_best_model()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    counter.start_step = trainer.state.global_step
    counter.start_tokens = int(trainer.state.num_input_tokens_seen or 0)
    return float(losses[-1]) if losses else None


def _backend() -> str | None:
    import torch.distributed as dist

    return dist.get_backend() if dist.is_available() and dist.is_initialized() else None


def _save(job: TrainJob, prepared: Prepared, metrics: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    out = job.output_dir
    keep_parent = bool(prepared.parent.get("trainable")) and prepared.parent.get("composition") == "stacked"
    prepared.method.save(prepared.model, out, ["default", "parent"] if keep_parent else ["default"])
    metrics["adapter_size_bytes"] = folder_size(out)
    make_portable(out, job.model)
    if keep_parent:
        metrics["parent_adapter_size_bytes"] = folder_size(out / PARENT_DIR)
        make_portable(out / PARENT_DIR, job.model)
        write_meta(out / PARENT_DIR, job.model, method="parent", kind=prepared.method.peft_type, updated_by=str(out))
    # the tokenizer travels with the adapter (after the size figure: it is not adapter weight)
    prepared.tokenizer.save_pretrained(str(out))
    write_meta(
        out,
        job.model,
        method=job.method,
        kind=prepared.method.peft_type,
        method_label=prepared.method.label(),
        method_options=prepared.options,
        parent=prepared.parent.get("name"),
        parent_trainable=keep_parent,
        parent_composition=prepared.parent.get("composition"),
    )
    write_loss_curves(out / "training", rows, f"{job.method} ({out.name})")
    write_efficiency(out / "training", metrics)
