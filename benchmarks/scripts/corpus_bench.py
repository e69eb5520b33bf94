"""Corpus pipeline benchmark on the full corpus: cold, tokenization/packing, and warm (cached) times.

Usage::

    HF_HUB_OFFLINE=1 python benchmarks/scripts/corpus_bench.py [--source raw|snapshot] [--model tiny|gemma]
        [--workers N] [--block-size 512]

Runs source → clean → structure → dedup → split → blocks through the runner's cache in a fresh
temporary cache (cold), then builds the same stages again and takes them from the cache (warm).
Prints one line per stage with its time, then the acceptance figures.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RAW = REPO.parent / "shared" / "data" / "mx_laws_raw"
SPEC = """
name: corpus_bench
seed: 0
model: {{id: {model}, sources: [{model_source}]}}
corpus:
  sources:
    - {source}
  cleaners: [unicode_repair, page_furniture, reform_notes, unwrap_lines, numeric_tables, quality]
  structurer: mx_articles
  dedup: [exact, {{name: minhash, options: {{threshold: 0.9}}}}]
  split: {{validation_fraction: 0.02, exclude_heldout_from: [mx_legal]}}
  blocks: {{block_size: {block_size}}}
evaluation: {{tasks: [mx_legal_ppl]}}
"""


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["raw", "snapshot"], default="raw")
    parser.add_argument("--model", choices=["tiny", "gemma"], default="tiny")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--block-size", type=int, default=512)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.workers:
        os.environ["HARNESS_CORPUS_WORKERS"] = str(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HARNESS_CACHE_DIR"] = str(Path(tmp) / "cache")
        source = f"{{name: raw_txt, options: {{path: {RAW}}}}}" if args.source == "raw" else "snapshot"
        model_id, model_source = (
            ("tiny-llama", "tiny") if args.model == "tiny" else ("google/gemma-3-270m", "gemma_gguf_package")
        )
        spec_path = Path(tmp) / "bench.yaml"
        spec_path.write_text(
            SPEC.format(source=source, model=model_id, model_source=model_source, block_size=args.block_size)
        )
        run(spec_path, Path(tmp) / "cache")


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the worker processes)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(spec_path: Path, cache: Path) -> None:
    """Cold run, then warm run, of the six corpus stages; print figures."""
    from harness.components import ResolvedModel
    from harness.corpus.stages import corpus_stages, load_articles
    from harness.plugins import load_registry
    from harness.runner.cache import execute_or_load
    from harness.runner.stage import RunInfo
    from harness.spec.common import ComponentRef
    from harness.spec.load import load_spec

    registry = load_registry(load_entrypoints=False)
    loaded = load_spec(spec_path, profile="cpu")
    source_name = loaded.spec.model.sources[0]
    model_source = registry.build("model_sources", ComponentRef(name=source_name))
    model: ResolvedModel | None = model_source.resolve(loaded.spec.model.id)  # type: ignore[attr-defined]
    assert model is not None, "model not available offline"
    print(
        f"workers: {os.environ.get('HARNESS_CORPUS_WORKERS') or os.cpu_count()}, model: {model.reference} ({model.source})"
    )
    for phase in ("cold", "warm"):
        stages = corpus_stages(loaded, registry, model)
        info = RunInfo(spec=loaded, registry=registry, run_dir=cache.parent / "run", cache=cache, device="cpu")
        times: dict[str, float] = {}
        cpu: dict[str, float] = {}
        t_all = time.perf_counter()
        for name in ("source", "clean", "structure", "dedup", "split", "blocks"):
            stage = stages[name]
            stage.compute_key()
            t0, c0 = time.perf_counter(), cpu_seconds()
            execute_or_load(stage, info)
            times[name] = time.perf_counter() - t0
            cpu[name] = cpu_seconds() - c0
        total = time.perf_counter() - t_all
        core = sum(times[k] for k in ("source", "clean", "structure", "dedup"))
        print(f"[{phase}] wall: " + ", ".join(f"{k} {v:.2f}s" for k, v in times.items()))
        print(f"[{phase}] CPU (this process + workers): " + ", ".join(f"{k} {v:.2f}s" for k, v in cpu.items()))
        print(f"[{phase}] load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"[{phase}] sources+cleaning+structure+dedup: {core:.2f}s; split: {times['split']:.2f}s; "
            f"tokenize+pack: {times['blocks']:.2f}s; all six stages: {total:.2f}s"
        )
    rec = stages["structure"].record
    print(f"laws: {rec['laws']}, articles: {rec['articles']} {rec['parts']}, reform notes: {rec['reform_notes']}")
    print(f"dedup: {stages['dedup'].record}")
    print(f"split: {stages['split'].record}")
    b = stages["blocks"].record
    print(f"blocks: train {b['train']}, validation {b['validation']}")
    articles = load_articles(stages["structure"].output)
    for law in ("1_280521", "125_310721", "2_110121", "9_010621", "LAmp_070621", "3_241220", "8_310721", "CNPP_190221"):
        body = [a for a in articles if a.law_id == law and a.part == "body"]
        if not body:
            continue
        plain = [a for a in body if re.fullmatch(r"\d+o?", a.label)]
        print(
            f"{law}: {body[0].law_title[:60]}: body {len(body)} (numbered {len(plain)}, max {max(a.number for a in plain)}, "
            f"Bis/Ter/-A {len(body) - len(plain)}), transitorios {sum(a.law_id == law and a.part != 'body' for a in articles)}"
        )


if __name__ == "__main__":
    main()
