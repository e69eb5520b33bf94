"""SFT tokens/s with TRL's own loss vs the harness's response-only LM head, on the same examples.

Both arms train the same LoRA adapter (r=16, all linear layers) from the same seed on the same
instruction pairs (an instruction, an article of the packaged corpus as context, a one-sentence
response), with TRL's ``SFTTrainer`` and the same ``SFTConfig``; only ``compute_loss`` differs.
Arms alternate (TRL, harness, TRL, …) so a noisy machine affects both; the median of each is
printed with the ratio, and the first step's loss of both arms (they must agree).

    HF_HUB_OFFLINE=1 python benchmarks/scripts/sft_throughput.py --model gemma --steps 4 --repeats 2
    python benchmarks/scripts/sft_throughput.py --model tiny --steps 3 --repeats 1   # a few seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve(which: str) -> Any:
    """``tiny`` (built on the fly) or ``gemma`` (offline GGUF package)."""
    if which == "tiny":
        from harness_plugins.models.sources import TinyLlama

        return TinyLlama().resolve("tiny-llama")
    from harness_plugins.models.sources import GemmaGGUFPackage

    return GemmaGGUFPackage().resolve("google/gemma-3-270m")


def examples(n: int, chat: bool) -> Any:
    """``n`` instruction pairs over real articles of the packaged corpus."""
    import datasets
    import pyarrow.parquet as pq

    from harness.training.data import sft_example
    from harness_plugins.corpus.sources import SNAPSHOT

    text = pq.read_table(SNAPSHOT, columns=["text"]).column("text")[0].as_py()
    paragraphs = [p.strip() for p in text.split("\n\n") if 200 < len(p.strip()) < 1200][:n]
    rows = [
        {
            "instruction": "Resume en una oración lo que dispone el siguiente artículo.",
            "context": p,
            "response": p.split(". ")[0] + ".",
        }
        for p in paragraphs
    ]
    return datasets.Dataset.from_list([sft_example(r, chat) for r in rows])


def run(
    model_info: Any, response_only: bool, steps: int, batch: int, seed: int, precision: str = "fp32"
) -> dict[str, float]:
    """Train ``steps`` steps; return tokens/s (non-padding tokens) and the first logged loss."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from harness.training.data import has_chat_template
    from harness.training.response_loss import response_only_trainer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_info.path)
    model = AutoModelForCausalLM.from_pretrained(model_info.path, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    data = examples(steps * batch, has_chat_template(tokenizer))
    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=batch,
            learning_rate=5e-4,
            max_length=384,
            completion_only_loss=True,
            packing=False,
            gradient_checkpointing=False,
            logging_steps=1,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
            seed=seed,
            use_cpu=not torch.cuda.is_available(),
            include_num_input_tokens_seen="non_padding",
            # TRL's SFTConfig turns bf16 on by default: both arms in fp32 unless asked
            bf16=precision == "bf16",
        )
        cls = response_only_trainer(SFTTrainer) if response_only else SFTTrainer
        trainer = cls(model=model, args=config, train_dataset=data, processing_class=tokenizer)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"tokens_per_s": trainer.state.num_input_tokens_seen / seconds, "first_loss": losses[0]}


def main() -> None:
    """Alternate the two arms and print their medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["tiny", "gemma"], default="tiny")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    info = resolve(args.model)
    results: dict[str, list[dict[str, float]]] = {"trl": [], "harness": []}
    for _ in range(args.repeats):
        for arm in ("trl", "harness"):
            results[arm].append(run(info, arm == "harness", args.steps, args.batch, seed=0))
            print(
                f"{arm}: {results[arm][-1]['tokens_per_s']:.1f} tokens/s, first loss {results[arm][-1]['first_loss']:.5f}"
            )
    trl = statistics.median(r["tokens_per_s"] for r in results["trl"])
    ours = statistics.median(r["tokens_per_s"] for r in results["harness"])
    print(f"model {args.model}, {args.steps} steps x {args.batch} examples, {args.repeats} repeat(s)")
    print(f"SFT tokens/s: TRL loss {trl:.1f}, response-only head {ours:.1f}, ratio {ours / trl:.2f}x")


if __name__ == "__main__":
    main()
