"""Evaluation seconds with the choices of one context scored from one pass over it, against every
request on its own (lm-eval's way), on the shipped legal-QA items, in one run.

The arms alternate (``--repeats``) so that load from other users of the machine hits both; the
log-likelihoods of the two arms are compared too (largest absolute difference). Nothing is
asserted about time.

    python benchmarks/scripts/shared_context.py --model gemma --items 20
    python benchmarks/scripts/shared_context.py --model tiny --items 4     (what CI can afford)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import sft_throughput  # noqa: E402


def requests(n: int, open_book: bool) -> list[Any]:
    """The first ``n`` legal-QA items as the open-book (article + question) or closed-book task asks them."""
    from lm_eval.api.instance import Instance

    path = REPO / "tasks" / "mx_legal" / "data" / "legal_qa.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:n]
    out = []
    for i, row in enumerate(rows):
        question = f"Pregunta: {row['question']}\nRespuesta:"
        context = f"{row['article']}\n\n{question}" if open_book else question
        out += [Instance("loglikelihood", doc={}, arguments=(context, " " + c), idx=i) for c in row["choices"]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "gemma"], default="gemma")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.evaluation.lm import wrap

    model_ref = sft_throughput.resolve(args.model)
    model = AutoModelForCausalLM.from_pretrained(model_ref.path, dtype="float32").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_ref.path)
    figures: dict[str, Any] = {"model": args.model, "items": args.items, "batch_size": args.batch_size}
    for task, open_book in (("open_book", True), ("closed_book", False)):
        batch = requests(args.items, open_book)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        answers: dict[bool, list[float]] = {}
        for _ in range(args.repeats):
            for share in (True, False):
                lm = wrap(model, tokenizer, args.batch_size)
                lm.share_contexts = share
                started = time.perf_counter()
                answers[share] = [ll for ll, _ in lm.loglikelihood(batch, disable_tqdm=True)]
                seconds[share].append(time.perf_counter() - started)
        shared, alone = statistics.median(seconds[True]), statistics.median(seconds[False])
        diff = max(abs(a - b) for a, b in zip(answers[True], answers[False]))
        figures[task] = {
            "requests": len(batch),
            "shared_s": round(shared, 2),
            "each_alone_s": round(alone, 2),
            "speedup": round(alone / shared, 2),
            "max_abs_loglik_diff": diff,
        }
        print(
            f"{task:12s} {len(batch):4d} requests: shared context {shared:7.2f} s, each alone {alone:7.2f} s, "
            f"×{alone / shared:.2f}; largest log-likelihood difference {diff:.2e}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
