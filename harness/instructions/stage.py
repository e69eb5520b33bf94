"""The ``instructions`` stage: train articles → generators → filters → decontamination → JSONL.

Only the corpus split's ``train.parquet`` is read, so validation and evaluation articles never
reach a generator.  The cache key covers the generators' identities, budget, mix, filters,
decontamination settings, seed and a hash of the evaluation texts used for decontamination.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import Article, InstructionGenerator, InstructionPair
from harness.errors import PluginError
from harness.instructions.articles import read_articles
from harness.instructions.budget import allocate, normalized_mix, trim_to_mix
from harness.instructions.card import render_card
from harness.instructions.decontaminate import Decontaminator, EvalTexts, load_eval_texts
from harness.instructions.filters import apply_filters
from harness.paths import write_atomic
from harness.runner.stage import Stage
from harness.spec.instructions import InstructionsSection

if TYPE_CHECKING:
    from harness.context import StageContext
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec

#: bump when the stage's own processing changes its output
STAGE_FORMAT = 1
FIELDS = ("instruction", "context", "response", "task_type", "law_id", "article_label", "generator", "template_or_model", "language")


def instructions_stage(loaded: LoadedSpec, registry: Registry, corpus: dict[str, Stage]) -> Stage:
    """Build the stage from the spec's ``instructions`` section; input role ``split``."""
    section = loaded.spec.instructions or InstructionsSection()
    seed = section.seed if section.seed is not None else loaded.spec.seed
    decon = section.decontamination
    eval_texts = load_eval_texts(decon.tasks, decon.extra_files, loaded.base_dir) if decon.enabled else EvalTexts([], [], [])
    config = {
        "format": STAGE_FORMAT,
        "generators": [registry.identity("instruction_generators", ref) for ref in section.generators],
        "budget": section.budget,
        "task_types": dict(section.task_types),
        "filters": section.filters.model_dump(mode="json"),
        "decontamination": {
            **decon.model_dump(mode="json", exclude={"extra_files"}),
            "eval_sha256": eval_texts.digest,
            "eval_texts": len(eval_texts.texts),
            "missing": eval_texts.missing,
        },
        "seed": seed,
    }

    def execute(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        articles = read_articles(inputs["split"] / "train.parquet")
        return build_dataset(articles, section, registry, seed, eval_texts, config, ctx)

    return Stage(name="instructions", kind="instructions", config=config, execute=execute, inputs={"split": corpus["split"]})


def _generate(
    articles: list[Article], section: InstructionsSection, registry: Registry, ctx: StageContext
) -> tuple[list[list[InstructionPair]], dict[str, dict[str, int]], list[dict[str, float]], list[int]]:
    """Run each generator on its share of the budget (plus oversampling for the filters)."""
    shares = allocate(section.budget, {str(i): 1.0 for i in range(len(section.generators))})
    batches, stats, mixes, budgets = [], {}, [], []
    for i, ref in enumerate(section.generators):
        generator = registry.build("instruction_generators", ref)
        assert isinstance(generator, InstructionGenerator)
        supported = tuple(getattr(generator, "task_types", ()))
        mix = normalized_mix(section.task_types, supported)
        if supported and section.task_types:
            unknown = [name for name in mix if name not in supported]
            if unknown:
                ctx.warn(f"generator {ref.name!r} does not produce task types {', '.join(unknown)}; they are skipped")
                mix = normalized_mix({k: v for k, v in mix.items() if k in supported}, supported)
        share = shares[str(i)]
        request = math.ceil(share * section.filters.oversample)
        try:
            pairs = list(generator.generate(articles, request, mix, ctx))
        except PluginError:
            raise
        except Exception as exc:
            entry = registry.get("instruction_generators", ref.name)
            if entry.distribution == "harness":
                raise
            raise PluginError(f"instruction generator {ref.name!r} failed: {type(exc).__name__}: {exc}", plugin=entry.plugin, distribution=entry.distribution) from exc
        # provenance is the name the spec used, whatever the generator wrote
        for pair in pairs:
            pair.generator = ref.name
        batches.append(pairs)
        stats[ref.name] = {"requested": request, "yielded": len(pairs), **dict(getattr(generator, "stats", {}))}
        mixes.append(mix)
        budgets.append(share)
    return batches, stats, mixes, budgets


def build_dataset(
    articles: list[Article],
    section: InstructionsSection,
    registry: Registry,
    seed: int,
    eval_texts: EvalTexts,
    settings: dict[str, Any],
    ctx: StageContext,
) -> dict[str, Any]:
    """Generate, filter, decontaminate and write ``instructions.jsonl`` and ``dataset_card.md``."""
    ctx = dataclasses.replace(ctx, seed=seed)
    for note in eval_texts.missing:
        ctx.warn(f"decontamination: no evaluation texts from {note}; pairs are not checked against them")
    batches, stats, mixes, budgets = _generate(articles, section, registry, ctx)
    generated = sum(len(batch) for batch in batches)
    # filters keep the first of duplicates and cap per article: interleave the generators first
    pool = [pair for batch in batches for pair in batch]
    random.Random(f"{seed}:filters").shuffle(pool)
    kept, removed = apply_filters(pool, section.filters)
    decon = section.decontamination
    decontaminated = 0
    ngrams = 0
    if decon.enabled:
        index = Decontaminator(eval_texts.texts, decon.n)
        ngrams = index.size
        clean = [pair for pair in ctx.track(kept, "decontaminating pairs") if not index.contaminated(pair)]
        decontaminated = len(kept) - len(clean)
        kept = clean
    final: list[InstructionPair] = []
    for ref, mix, budget in zip(section.generators, mixes, budgets, strict=True):
        mine = [pair for pair in kept if pair.generator == ref.name]
        final += trim_to_mix(mine, budget, mix)
    over_budget = len(kept) - len(final)
    random.Random(f"{seed}:order").shuffle(final)
    _write_jsonl(ctx.workdir / "instructions.jsonl", final)
    categories = {article.law_id: article.category for article in articles}
    record: dict[str, Any] = {
        "pairs": len(final),
        "articles": len(articles),
        "laws": len(categories),
        "generated": generated,
        "removed": dict(removed),
        "decontaminated": decontaminated,
        "over_budget": over_budget,
        "by_task_type": dict(Counter(p.task_type for p in final)),
        "by_generator": dict(Counter(p.generator for p in final)),
        "by_category": dict(Counter(categories.get(p.law_id, "unknown") for p in final)),
        "by_language": dict(Counter(p.language for p in final)),
        "generator_stats": stats,
        "decontamination": {
            "enabled": decon.enabled,
            "n": decon.n,
            "eval_texts": len(eval_texts.texts),
            "eval_ngrams": ngrams,
            "eval_sha256": eval_texts.digest,
            "sources": eval_texts.sources,
            "missing": eval_texts.missing,
        },
    }
    write_atomic(ctx.workdir / "dataset_card.md", render_card(record, settings))
    return record


def _write_jsonl(path: Path, pairs: list[InstructionPair]) -> None:
    lines = []
    for pair in pairs:
        row = dataclasses.asdict(pair)
        lines.append(json.dumps({name: row[name] for name in FIELDS}, ensure_ascii=False))
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
