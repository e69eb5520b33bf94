"""Where the time goes, measured in one run on this machine: precision, SFT head, one-model evaluation.

Prints, in one run (arms alternate so that load from other users of the machine hits both):

1. DAPT training tokens/s of the harness's ``causal_lm`` trainer in fp32 and under bf16 autocast,
   next to a plain transformers ``Trainer`` with the same settings (LoRA on every linear layer);
2. SFT tokens/s with TRL's own loss and with the harness's response-only LM head;
3. evaluation seconds per system (base, +dapt, +sft, +dapt+sft) with each system composed from a
   fresh base (the old path) and with one base model whose adapters are switched (fp32, and bf16
   on the one-model path), on open-book legal-QA items (four continuations each);
4. the stage times of a finished run (``--run``, default: the newest ``runs/mx_legal/*``).

Nothing is asserted about time; ``--quick`` (the tiny model, a few steps) is what CI runs.

    HF_HUB_OFFLINE=1 python benchmarks/scripts/speed.py --model gemma
    python benchmarks/scripts/speed.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import sft_throughput  # noqa: E402
import train_throughput  # noqa: E402


def resolve(which: str) -> Any:
    return sft_throughput.resolve(which)


# --- 1. training --------------------------------------------------------------------------------


def harness_train(
    model: Any, blocks: Path, root: Path, settings: dict[str, Any], precision: str
) -> tuple[float, float]:
    figures = train_throughput.harness_run(model, blocks, root, settings, precision)
    return float(figures["train_tokens_per_s"]), float(figures["last_loss"])


def plain_train(model: Any, blocks: Path, root: Path, settings: dict[str, Any], precision: str) -> tuple[float, float]:
    """The same LoRA training written directly against transformers + peft."""
    figures = train_throughput.plain_run(model, blocks, root, settings, precision)
    return float(figures["train_tokens_per_s"]), float(figures["last_loss"])


def training(model: Any, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    hp = {
        "optimizer": "adamw_torch",
        "learning_rate": 2e-4,
        "per_device_train_batch_size": args.batch,
        "logging_steps": 1,
        "gradient_checkpointing": False,
        "save_steps": 10**6,
    }
    settings = {"hp": hp, "steps": args.steps, "r": 16, "target_modules": "all-linear"}
    blocks = train_throughput.write_blocks(model, work / "blocks", args.block, args.steps * args.batch)
    runs: dict[tuple[str, str], list[float]] = {}
    last_loss: dict[tuple[str, str], float] = {}
    order = [("harness", "fp32"), ("harness", "bf16"), ("plain", "fp32"), ("plain", "bf16")]
    for repeat in range(args.repeats):
        for arm, precision in order if repeat % 2 == 0 else order[::-1]:
            run = harness_train if arm == "harness" else plain_train
            value, loss = run(model, blocks, work / f"{arm}-{precision}", settings, precision)
            runs.setdefault((arm, precision), []).append(value)
            last_loss[(arm, precision)] = loss
            print(f"  train {arm:7s} {precision}: {value:8.1f} tokens/s, last-step loss {loss:.5f}", flush=True)
    med = {key: statistics.median(values) for key, values in runs.items()}
    return {
        "tokens_per_s": {f"{a}_{p}": round(v, 1) for (a, p), v in med.items()},
        "bf16_over_fp32_harness": round(med[("harness", "bf16")] / med[("harness", "fp32")], 3),
        "bf16_over_fp32_plain": round(med[("plain", "bf16")] / med[("plain", "fp32")], 3),
        "harness_over_plain_fp32": round(med[("harness", "fp32")] / med[("plain", "fp32")], 3),
        "harness_over_plain_bf16": round(med[("harness", "bf16")] / med[("plain", "bf16")], 3),
        "last_step_loss": {f"{a}_{p}": round(v, 5) for (a, p), v in last_loss.items()},
        # the quality check: bf16 must train the same curve (issue target: within 2 %)
        "last_loss_bf16_vs_fp32_rel_diff": round(
            abs(last_loss[("harness", "bf16")] - last_loss[("harness", "fp32")]) / last_loss[("harness", "fp32")], 4
        ),
    }


# --- 2. SFT head --------------------------------------------------------------------------------


def sft(model: Any, args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[float]] = {"trl": [], "harness": []}
    for _ in range(args.repeats):
        for arm in ("trl", "harness"):
            out = sft_throughput.run(model, arm == "harness", args.sft_steps, args.sft_batch, seed=0)
            runs[arm].append(out["tokens_per_s"])
            print(f"  sft {arm:7s}: {out['tokens_per_s']:8.1f} tokens/s (first loss {out['first_loss']:.5f})")
    trl, ours = statistics.median(runs["trl"]), statistics.median(runs["harness"])
    return {
        "trl_loss_tokens_per_s": round(trl, 1),
        "response_only_tokens_per_s": round(ours, 1),
        "ratio": round(ours / trl, 2),
    }


# --- 3. evaluation ------------------------------------------------------------------------------


def legal_qa_requests(n: int) -> list[Any]:
    """Open-book legal-QA items of the shipped data: article + question, four answers each."""
    from lm_eval.api.instance import Instance

    rows = [
        json.loads(line) for line in (REPO / "tasks" / "mx_legal" / "data" / "legal_qa.jsonl").open(encoding="utf-8")
    ]
    requests = []
    for i, row in enumerate(rows[:n]):
        context = f"{row['article'][:1500]}\n\nPregunta: {row['question']}\nRespuesta:"
        for choice in row["choices"]:
            requests.append(Instance("loglikelihood", doc={}, arguments=(context, " " + choice), idx=i))
    return requests


def random_adapters(model: Any, root: Path) -> dict[str, Path]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.training.meta import write_meta

    out = {}
    for seed, role in enumerate(("dapt", "sft"), 1):
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(model.path)
        config = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", init_lora_weights=False)
        get_peft_model(base, config).save_pretrained(root / role)
        write_meta(root / role, model, method="lora")
        out[role] = root / role
    return out


def evaluation(model: Any, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from harness.evaluation import pool
    from harness.evaluation.lm import wrap
    from harness.plan import SystemPlan
    from harness.training.compose import build_system_model

    adapters = random_adapters(model, work / "adapters")
    systems = [
        SystemPlan(n, a, "stacked")
        for n, a in (("base", []), ("base+dapt", ["dapt"]), ("base+sft", ["sft"]), ("base+dapt+sft", ["dapt", "sft"]))
    ]
    requests = legal_qa_requests(args.eval_items)
    table: dict[str, dict[str, float]] = {}
    # bf16 changes the forward pass, not the loading: it is timed on the one-model path only
    for path, precision in (("per_system", "fp32"), ("one_model", "fp32"), ("one_model", "bf16")):
        pool.release()
        label = f"{path}_{precision}"
        seconds = []
        for system in systems:
            dirs = {role: adapters[role] for role in system.adapters}
            started = time.perf_counter()
            if path == "per_system":
                built, tokenizer = build_system_model(system, model, dirs, "float32")
            else:
                built, tokenizer, _ = pool.system_model(system, model, dirs, "float32")
            wrap(built, tokenizer, 8, mixed_precision=precision).loglikelihood(requests, disable_tqdm=True)
            seconds.append(time.perf_counter() - started)
            del built
        pool.release()
        table[label] = {s.name: round(t, 2) for s, t in zip(systems, seconds)}
        print(f"  eval {label:18s}: {statistics.mean(seconds):7.2f} s per system  {table[label]}", flush=True)
    mean = {k: statistics.mean(v.values()) for k, v in table.items()}
    return {
        "items": args.eval_items,
        "seconds_per_system": table,
        "one_model_speedup_fp32": round(mean["per_system_fp32"] / mean["one_model_fp32"], 3),
        "bf16_speedup_one_model": round(mean["one_model_fp32"] / mean["one_model_bf16"], 3),
        "best_over_old_path": round(mean["per_system_fp32"] / min(mean["one_model_fp32"], mean["one_model_bf16"]), 3),
    }


# --- 4. stage times -----------------------------------------------------------------------------


def stage_times(run: Path | None) -> dict[str, Any]:
    if run is None:
        found = sorted((REPO / "runs" / "mx_legal").glob("*/manifest.json"))
        if not found:
            return {}
        run = found[-1].parent
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    stages = {name: s.get("seconds") for name, s in manifest.get("stages", {}).items()}
    return {
        "run": str(run),
        "wall_seconds": manifest.get("wall_seconds"),
        "precision": manifest.get("precision"),
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["tiny", "gemma"], default="gemma")
    parser.add_argument("--quick", action="store_true", help="the tiny model, a few steps (CI)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--sft-steps", type=int, default=3)
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--sft-batch", type=int, default=1)
    parser.add_argument("--eval-items", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--run", type=Path, default=None, help="a finished run folder for stage times")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.model, args.steps, args.sft_steps, args.block, args.batch, args.eval_items = "tiny", 2, 2, 64, 2, 2
        args.sft_batch = 2
    from harness.precision import cpu_bf16_units, resolve_precision

    model = resolve(args.model)
    auto = resolve_precision("auto")
    print(
        f"model {args.model}; bf16 units {cpu_bf16_units() or 'none'}; precision auto → {auto.describe()}", flush=True
    )
    work = Path(tempfile.mkdtemp(prefix="speed-"))
    try:
        figures = {
            "model": args.model,
            "auto_precision": auto.name,
            "training": training(model, args, work),
            "sft": sft(model, args),
            "evaluation": evaluation(model, args, work),
            "stage_times": stage_times(args.run),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
