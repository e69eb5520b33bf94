"""Benchmark of the ``instructions`` stage on the full corpus: pairs, task types, seconds, memory.

Runs the real stage (``harness.instructions.stage.instructions_stage``: generators, filters,
decontamination against the frozen ``mx_legal`` data, JSONL and card) on a ``train.parquet``:

    python benchmarks/scripts/instructions_bench.py --train runs/.cache/split/<key>/train.parquet
    python benchmarks/scripts/instructions_bench.py            # quick regex extraction of the raw corpus

Without ``--train`` the articles come from the test helper ``tests/instructions/quick_articles.py``
over every law of the raw corpus (minus the evaluation's held-out article ids), and the script
says so.  Prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MIX = {
    "exqa": 0.2,
    "ynqa": 0.15,
    "mcqa": 0.15,
    "qa": 0.1,
    "summarization": 0.15,
    "topic_class": 0.1,
    "sent_comp": 0.15,
}


def quick_train(raw: Path, out: Path) -> tuple[Path, int]:
    """Extract every law's body articles with the quick regex helper; drop held-out ids."""
    sys.path.insert(0, str(REPO / "tests" / "instructions"))
    from quick_articles import corpus_articles

    from harness.instructions.articles import write_articles

    articles = corpus_articles(raw)
    try:
        from harness.evaluation.taskdata import heldout_article_ids

        heldout = heldout_article_ids()
    except Exception:  # noqa: BLE001 - no frozen task data: keep every article
        heldout = set()
    train = [a for a in articles if a.article_id not in heldout]
    path = out / "train.parquet"
    write_articles(path, train)
    return path, len(articles) - len(train)


def main() -> None:
    """Parse arguments, run the stage once, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, help="a corpus split's train.parquet")
    parser.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data" / "mx_laws_raw")
    parser.add_argument("--budget", type=int, default=25000)
    parser.add_argument("--generator", default="mx_templates")
    parser.add_argument("--keep", type=Path, help="copy instructions.jsonl and README.md here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from harness.context import StageContext
    from harness.instructions.stage import instructions_stage
    from harness.plugins import load_registry
    from harness.progress import Progress
    from harness.runner.stage import Stage
    from harness.spec.load import LoadedSpec
    from harness.spec.model import Spec

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.train is None:
            started = time.perf_counter()
            train, dropped = quick_train(args.raw, work)
            print(
                f"articles source: quick regex extraction of {args.raw} "
                f"(tests/instructions/quick_articles.py); {dropped} held-out articles removed; "
                f"{time.perf_counter() - started:.1f} s (not part of the stage time)"
            )
        else:
            train = args.train
            print(f"articles source: {train}")
        split = work / "split"
        split.mkdir(exist_ok=True)
        (split / "train.parquet").write_bytes(train.read_bytes())
        raw = {
            "name": "instructions-bench",
            "model": {"id": "tiny-llama"},
            "corpus": {"sources": ["snapshot"]},
            "instructions": {
                "generators": [args.generator],
                "budget": args.budget,
                "task_types": DEFAULT_MIX,
            },
            "evaluation": {"tasks": ["mx_legal"]},
        }
        loaded = LoadedSpec(Spec.model_validate(raw), REPO / "benchmarks" / "bench.yaml", "cpu", "bench", raw)
        registry = load_registry(load_entrypoints=False)
        upstream = Stage(name="split", kind="split", config={}, execute=lambda ctx, inputs: {})
        upstream.compute_key()
        started = time.perf_counter()
        cpu_started = time.process_time()
        stage = instructions_stage(loaded, registry, {"split": upstream})
        out = work / "out"
        out.mkdir()
        ctx = StageContext("instructions", out, work / "scratch", REPO, progress=Progress(enabled=False))
        record = stage.execute(ctx, {"split": split})
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"cpu cores: {os.cpu_count()}")
        print(f"train articles: {record['articles']:,} of {record['laws']} laws")
        print(f"pairs: {record['pairs']:,} (budget {args.budget:,}; generated {record['generated']:,})")
        print(
            f"task types: {len(record['by_task_type'])} -> "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(record["by_task_type"].items()))
        )
        print(f"removed by filters: {record['removed']}")
        decon = record["decontamination"]
        print(
            f"decontamination: n={decon['n']}, {decon['eval_texts']:,} eval texts, "
            f"{decon['eval_ngrams']:,} n-grams, "
            f"{record['decontaminated']:,} pairs removed; missing: {decon['missing'] or 'none'}"
        )
        load = os.getloadavg()[0]
        print(f"stage seconds (build + execute): {seconds:.1f} wall, {cpu_seconds:.1f} CPU (load average {load:.1f})")
        print(f"peak RSS MB: {peak_mb:.0f}")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("instructions.jsonl", "README.md"):
                (args.keep / name).write_bytes((out / name).read_bytes())
            print(f"kept outputs in {args.keep}")


if __name__ == "__main__":
    main()
