"""Overhead of evaluating through the harness vs calling ``lm_eval.simple_evaluate`` directly.

Both paths load the same model from its folder, evaluate ``mx_legal_ppl`` with the same limit
and keep per-sample logs, with a TaskManager indexing only the shipped tasks (as the harness does
when no lm-eval built-in task is asked for; ``--with-default-index`` also times the default
TaskManager).  The harness path additionally composes the system, computes bootstrap CIs and
writes ``results.json`` + ``samples_*.jsonl``.  Runs alternate (direct, harness, direct, …) and
the median of each is reported, with the ratio harness / direct.

    HF_HUB_OFFLINE=1 python benchmarks/scripts/eval_overhead.py --model gemma --limit 40 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve(which: str) -> Any:
    """The model to evaluate: ``tiny`` (built on the fly) or ``gemma`` (offline GGUF package)."""
    if which == "tiny":
        from harness_plugins.models.sources import TinyLlama

        return TinyLlama().resolve("tiny-llama")
    from harness_plugins.models.sources import GemmaGGUFPackage

    return GemmaGGUFPackage().resolve("google/gemma-3-270m")


def direct(model: Any, limit: int, batch_size: int, bootstrap_iters: int, index_builtin: bool = False) -> float:
    """Plain lm-eval: from_pretrained, HFLM around the object, simple_evaluate."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.paths import tasks_dir

    start = time.perf_counter()
    obj = AutoModelForCausalLM.from_pretrained(model.path).eval()
    lm = HFLM(pretrained=obj, tokenizer=AutoTokenizer.from_pretrained(model.path), batch_size=batch_size)
    out = simple_evaluate(
        model=lm,
        tasks=["mx_legal_ppl"],
        task_manager=TaskManager(include_path=[str(tasks_dir())], include_defaults=index_builtin),
        limit=limit,
        log_samples=True,
        bootstrap_iters=bootstrap_iters,
    )
    assert out is not None and "mx_legal_ppl" in out["results"]
    return time.perf_counter() - start


def through_harness(model: Any, limit: int, batch_size: int, bootstrap_iters: int) -> float:
    """The eval stage's body: compose the system, HarnessLM, evaluate, CIs, results + samples."""
    from harness.evaluation.stage import run_evaluation
    from harness.evaluation.tasks import effective_limits, resolve_tasks
    from harness.plan import SystemPlan
    from harness.plugins import load_registry

    registry = load_registry()
    refs = resolve_tasks(["mx_legal_ppl"], Path.cwd())
    config = {
        "model": {"dtype": "float32"},
        "limits": effective_limits(refs, limit, {}),
        "settings": {
            "batch_size": batch_size,
            "num_fewshot": None,
            "bootstrap_iters": bootstrap_iters,
            "max_gen_toks": 32,
            "seed": 0,
        },
        "lm_eval": "",
    }
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run_evaluation(registry, config, SystemPlan("base", []), model, {}, refs, Path(out), {})
    return time.perf_counter() - start


def main() -> None:
    """Alternate the two paths and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["tiny", "gemma"], default="gemma")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--bootstrap-iters", type=int, default=1000)
    parser.add_argument(
        "--with-default-index",
        action="store_true",
        help="also time direct calls whose TaskManager indexes all of lm-eval's built-in tasks",
    )
    args = parser.parse_args()
    model = resolve(args.model)
    # warm-up: file caches, lazy imports, lm-eval's task index
    direct(model, 2, args.batch_size, 0)
    through_harness(model, 2, args.batch_size, 0)
    times: dict[str, list[float]] = {"direct": [], "harness": [], "direct_default_index": []}
    for repeat in range(args.repeats):
        times["direct"].append(direct(model, args.limit, args.batch_size, args.bootstrap_iters))
        times["harness"].append(through_harness(model, args.limit, args.batch_size, args.bootstrap_iters))
        if args.with_default_index:
            times["direct_default_index"].append(
                direct(model, args.limit, args.batch_size, args.bootstrap_iters, index_builtin=True)
            )
        print(json.dumps({"repeat": repeat, **{k: v[-1] for k, v in times.items() if v}}), flush=True)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    report = {
        "model": model.reference,
        "task": "mx_legal_ppl",
        "limit": args.limit,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "seconds": times,
        "median_s": med,
        "ratio_harness_over_direct": med["harness"] / med["direct"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
