"""DAPT training throughput: the harness's ``causal_lm`` trainer against a plain transformers script.

Both train the same LoRA adapter on the same packed blocks with the same TrainingArguments
(optimizer, learning rate, batch, steps, seed, no gradient checkpointing); the runs alternate
(harness, plain, harness, plain …) so that load on a shared machine hits both alike.  Prints
tokens/s of each run, the medians and their ratio (harness / plain), the ratio of the best runs
and of each back-to-back pair (load from other users of a shared machine moves all of them), and
the harness's efficiency figures.

    HF_HUB_OFFLINE=1 python benchmarks/scripts/train_throughput.py --model tiny-llama --steps 40
    HF_HUB_OFFLINE=1 python benchmarks/scripts/train_throughput.py --model google/gemma-3-270m \
        --steps 6 --block 64 --batch 1 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def resolve(reference: str) -> Any:
    """The model through the harness's built-in sources (tiny LLaMA or the Gemma GGUF package)."""
    from harness_plugins.models.sources import GemmaGGUFPackage, LocalFolder, TinyLlama

    for source in (TinyLlama(), GemmaGGUFPackage(), LocalFolder()):
        found = source.resolve(reference)
        if found is not None:
            return found
    raise SystemExit(f"cannot resolve {reference!r}")


def write_blocks(model: Any, folder: Path, block: int, count: int) -> Path:
    """Packed blocks of Spanish law text (the tiny model's sample), as the blocks stage writes them."""
    from transformers import AutoTokenizer

    from harness_plugins.models.tiny import SAMPLE

    ids = AutoTokenizer.from_pretrained(model.path)(SAMPLE.read_text(encoding="utf-8"))["input_ids"]
    blocks = [ids[i : i + block] for i in range(0, len(ids) - block, block)][:count]
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"input_ids": blocks}), folder / "train_blocks.parquet")
    return folder / "train_blocks.parquet"


def harness_run(
    model: Any, blocks: Path, root: Path, settings: dict[str, Any], precision: str = "fp32"
) -> dict[str, Any]:
    """One run of the harness trainer; its own figures (tokens/s over ``trainer.train``) and the
    loss of its last logged step (``last_loss``)."""
    from harness.components import TrainJob
    from harness.context import StageContext
    from harness_plugins.training.causal_lm import CausalLMTrainer

    shutil.rmtree(root, ignore_errors=True)
    (root / "out").mkdir(parents=True)
    options = {"r": settings["r"], "alpha": 2 * settings["r"], "dropout": 0.0}
    if settings.get("target_modules"):
        options["target_modules"] = settings["target_modules"]
    job = TrainJob(
        model=model,
        dtype="float32",
        train_path=blocks,
        eval_path=None,
        method="lora",
        method_options=options,
        hyperparameters={**settings["hp"], "budget": {"max_steps": settings["steps"]}},
        output_dir=root / "out",
        checkpoint_dir=root / "scratch",
        seed=0,
        precision=precision,
    )
    ctx = StageContext(stage="dapt", workdir=root / "out", scratch=root / "scratch", base_dir=root)
    result = CausalLMTrainer().train(job, ctx)
    losses = [row["loss"] for row in result.loss_curve if row.get("loss") is not None]
    return {**result.metrics, "last_loss": losses[-1] if losses else None}


def plain_run(
    model: Any, blocks: Path, root: Path, settings: dict[str, Any], precision: str = "fp32"
) -> dict[str, Any]:
    """The same training written directly against transformers + peft, timed the same way
    (``precision`` bf16: the Trainer's own ``bf16=True``)."""
    import datasets
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments, default_data_collator

    shutil.rmtree(root, ignore_errors=True)
    hp = settings["hp"]
    ids = pq.read_table(blocks).column("input_ids").to_pylist()
    train = datasets.Dataset.from_dict({"input_ids": ids, "labels": ids})
    base = AutoModelForCausalLM.from_pretrained(model.path, dtype="float32")
    base.config.use_cache = False
    lora = LoraConfig(
        task_type="CAUSAL_LM",
        r=settings["r"],
        lora_alpha=2 * settings["r"],
        lora_dropout=0.0,
        target_modules=settings.get("target_modules"),
    )
    peft_model = get_peft_model(base, lora)
    args = TrainingArguments(
        output_dir=str(root),
        seed=0,
        optim=hp["optimizer"],
        learning_rate=hp["learning_rate"],
        lr_scheduler_type="linear",
        per_device_train_batch_size=hp["per_device_train_batch_size"],
        gradient_accumulation_steps=1,
        gradient_checkpointing=False,
        logging_steps=hp["logging_steps"],
        max_steps=settings["steps"],
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        bf16=precision == "bf16",
    )
    trainer = Trainer(model=peft_model, args=args, train_dataset=train, data_collator=default_data_collator)
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    tokens = settings["steps"] * hp["per_device_train_batch_size"] * len(ids[0])
    return {
        "train_tokens": tokens,
        "train_tokens_per_s": round(tokens / seconds, 2),
        "wall_time_s": round(seconds, 2),
        "cpu_time_s": round(cpu_seconds, 2),
        "last_loss": next((e["loss"] for e in reversed(trainer.state.log_history) if "loss" in e), None),
    }


def main() -> None:
    """Alternate harness and plain runs; print each, the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--r", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model = resolve(args.model)
    hp = {
        "optimizer": "adamw_torch",
        "learning_rate": 2e-4,
        "per_device_train_batch_size": args.batch,
        "logging_steps": 10,
    }
    settings = {"hp": hp, "steps": args.steps, "r": args.r}
    work = Path(tempfile.mkdtemp(prefix="train-throughput-"))
    blocks = write_blocks(model, work / "blocks", args.block, args.steps * args.batch)
    runs: dict[str, list[float]] = {"harness": [], "plain": []}
    per_cpu: dict[str, list[float]] = {"harness": [], "plain": []}
    figures: dict[str, Any] = {}
    for repeat in range(args.repeats):
        for name in ("harness", "plain") if repeat % 2 == 0 else ("plain", "harness"):
            run = harness_run if name == "harness" else plain_run
            result = run(model, blocks, work / name, settings)
            runs[name].append(result["train_tokens_per_s"])
            per_cpu[name].append(result["train_tokens"] / max(result["cpu_time_s"], 1e-9))
            figures = result if name == "harness" else figures
            print(
                f"repeat {repeat} {name:8s} tokens/s {result['train_tokens_per_s']:10.2f}  "
                f"wall {result['wall_time_s']}s  cpu {result['cpu_time_s']}s",
                flush=True,
            )
    harness, plain = statistics.median(runs["harness"]), statistics.median(runs["plain"])
    # on a shared machine the fastest run of each side is the least disturbed estimate
    pairs = [round(h / p, 3) for h, p in zip(runs["harness"], runs["plain"])]
    summary = {
        "model": args.model,
        "steps": args.steps,
        "block": args.block,
        "batch": args.batch,
        "harness_tokens_per_s": harness,
        "plain_tokens_per_s": plain,
        "ratio": round(harness / plain, 3),
        "best_harness_tokens_per_s": max(runs["harness"]),
        "best_plain_tokens_per_s": max(runs["plain"]),
        "ratio_of_best": round(max(runs["harness"]) / max(runs["plain"]), 3),
        "ratio_per_repeat": pairs,
        "harness_tokens_per_cpu_s": round(statistics.median(per_cpu["harness"]), 2),
        "plain_tokens_per_cpu_s": round(statistics.median(per_cpu["plain"]), 2),
        "ratio_per_cpu_s": round(statistics.median(per_cpu["harness"]) / statistics.median(per_cpu["plain"]), 3),
        "harness_figures": figures,
    }
    print(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
