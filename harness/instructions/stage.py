"""The ``instructions`` stage: train articles → generators → filters → decontamination → JSONL.

Only the corpus split's ``train.parquet`` is read, so validation and evaluation articles never
reach a generator.  The cache key covers the generators' identities, budget, mix, filters,
decontamination settings, seed and a hash of the evaluation texts used for decontamination.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import Article, InstructionPair
from harness.corpus.split import heldout_ids
from harness.instructions.articles import read_articles
from harness.instructions.budget import allocate, trim_to_mix
from harness.instructions.card import render_card
from harness.instructions.decontaminate import Decontaminator, EvalTexts, load_eval_texts
from harness.instructions.filters import apply_filters
from harness.instructions.generate import (
    GeneratorRun,
    first_request,
    resolve_mix,
    retry_request,
    run_generator,
)
from harness.paths import write_atomic
from harness.runner.dataset_card import write_dataset_card
from harness.runner.stage import Stage
from harness.spec.instructions import InstructionsSection

if TYPE_CHECKING:
    from harness.context import StageContext
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec

#: bump when the stage's own processing changes its output
STAGE_FORMAT = 4  # 3: responses with DOF reform notes filtered; 4: the card is README.md (a Hub dataset card)
FIELDS = (
    "instruction",
    "context",
    "response",
    "task_type",
    "law_id",
    "article_label",
    "generator",
    "template_or_model",
    "language",
)


def instructions_stage(loaded: LoadedSpec, registry: Registry, corpus: dict[str, Stage]) -> Stage:
    """Build the stage from the spec's ``instructions`` section; input role ``split``."""
    section = loaded.spec.instructions or InstructionsSection()
    seed = section.seed if section.seed is not None else loaded.spec.seed
    decon = section.decontamination
    eval_texts = (
        load_eval_texts(decon.tasks, decon.extra_files, loaded.base_dir) if decon.enabled else EvalTexts([], [], [])
    )
    for ref in section.generators:
        registry.build("instruction_generators", ref)  # bad options: a SpecError naming the component
    # the evaluation articles the split left in the training corpus (the legal-QA items' articles,
    # which DAPT may read) must not become instructions
    excluded, excluded_key = heldout_ids(loaded.spec.corpus.split.exclude_heldout_from, loaded.base_dir, "sft")
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
        "excluded_articles": excluded_key,
        "seed": seed,
    }

    def execute(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        train = read_articles(inputs["split"] / "train.parquet")
        articles = [a for a in train if a.article_id not in excluded]
        return build_dataset(articles, section, registry, seed, eval_texts, config, ctx, len(train) - len(articles))

    return Stage(
        name="instructions",
        kind="instructions",
        config=config,
        execute=execute,
        inputs={"split": corpus["split"]},
    )


def _clean(
    runs: list[GeneratorRun],
    section: InstructionsSection,
    seed: int,
    index: Decontaminator | None,
    ctx: StageContext,
) -> tuple[list[list[InstructionPair]], Counter[str]]:
    """Filter and decontaminate all generators' pairs together; return the survivors per generator."""
    owner = {id(pair): i for i, run in enumerate(runs) for pair in run.pairs}
    # filters keep the first of duplicates and cap per article: interleave the generators first
    pool = [pair for run in runs for pair in run.pairs]
    random.Random(f"{seed}:filters").shuffle(pool)
    kept, removed = apply_filters(pool, section.filters)
    if index is not None:
        clean = []
        for pair in ctx.track(kept, "decontaminating pairs"):
            if index.contaminated(pair):
                removed[f"decontaminated:{pair.task_type}"] += 1
            else:
                clean.append(pair)
        kept = clean
    survivors: list[list[InstructionPair]] = [[] for _ in runs]
    for pair in kept:
        survivors[owner[id(pair)]].append(pair)
    return survivors, removed


def build_dataset(
    articles: list[Article],
    section: InstructionsSection,
    registry: Registry,
    seed: int,
    eval_texts: EvalTexts,
    settings: dict[str, Any],
    ctx: StageContext,
    excluded_articles: int = 0,
) -> dict[str, Any]:
    """Generate, filter, decontaminate and write ``instructions.jsonl`` and its card ``README.md``;
    ``excluded_articles`` evaluation articles were kept out of ``articles`` beforehand."""
    ctx = dataclasses.replace(ctx, seed=seed)
    for note in eval_texts.missing:
        ctx.warn(f"decontamination: no evaluation texts from {note}; pairs are not checked against them")
    decon = section.decontamination
    index = Decontaminator(eval_texts.texts, decon.n) if decon.enabled else None
    shares = allocate(section.budget, {str(i): 1.0 for i in range(len(section.generators))})
    runs = []
    for i, ref in enumerate(section.generators):
        generator = registry.build("instruction_generators", ref)
        mix = resolve_mix(generator, section.task_types, ref.name, ctx)  # type: ignore[arg-type]
        runs.append(GeneratorRun(ref, generator, mix, shares[str(i)]))  # type: ignore[arg-type]
    for run in runs:
        run_generator(run, articles, first_request(run.share, section.filters.oversample), registry, ctx)
    survivors, removed = _clean(runs, section, seed, index, ctx)
    # one more round, bigger, for cheap generators the filters left short of their share
    short = [i for i, run in enumerate(runs) if len(survivors[i]) < run.share and run.may_regenerate]
    if short:
        for i in short:
            run_generator(runs[i], articles, retry_request(runs[i], len(survivors[i])), registry, ctx)
        survivors, removed = _clean(runs, section, seed, index, ctx)
    prefix = "decontaminated:"
    decontaminated_by_type = {k.removeprefix(prefix): v for k, v in removed.items() if k.startswith(prefix)}
    filtered = {k: v for k, v in removed.items() if not k.startswith(prefix)}
    final: list[InstructionPair] = []
    for run, mine in zip(runs, survivors, strict=True):
        final += trim_to_mix(mine, run.share, run.mix)
    over_budget = sum(len(mine) for mine in survivors) - len(final)
    random.Random(f"{seed}:order").shuffle(final)
    _write_jsonl(ctx.workdir / "instructions.jsonl", final)
    categories = {article.law_id: article.category for article in articles}
    record: dict[str, Any] = {
        "pairs": len(final),
        "articles": len(articles),
        "evaluation_articles_excluded": excluded_articles,
        "laws": len(categories),
        "generated": sum(len(run.pairs) for run in runs),
        "removed": filtered,
        "decontaminated": sum(decontaminated_by_type.values()),
        "decontaminated_by_task_type": decontaminated_by_type,
        "over_budget": over_budget,
        "by_task_type": dict(Counter(p.task_type for p in final)),
        "generated_by_task_type": dict(Counter(p.task_type for run in runs for p in run.pairs)),
        "examples": _examples(final, 3),
        "by_generator": dict(Counter(p.generator for p in final)),
        "by_category": dict(Counter(categories.get(p.law_id, "unknown") for p in final)),
        "by_language": dict(Counter(p.language for p in final)),
        "generator_stats": {run.ref.name: run.stats for run in runs},
        "decontamination": {
            "enabled": decon.enabled,
            "n": decon.n,
            "eval_texts": len(eval_texts.texts),
            "eval_ngrams": index.size if index is not None else 0,
            "eval_sha256": eval_texts.digest,
            "sources": eval_texts.sources,
            "missing": eval_texts.missing,
        },
    }
    # the dataset card is the folder's README.md: a Hub dataset card, front matter included
    write_dataset_card(
        ctx.workdir,
        "instructions",
        render_card(record, settings),
        language=sorted(record["by_language"]) or ["es"],
        task_categories=["text-generation", "question-answering"],
        tags=["legal", "instruction-tuning", "mexican-law"],
        license="other",
        pretty_name="Instructions generated from Mexican federal laws",
    )
    return record


def _examples(pairs: list[InstructionPair], per_type: int) -> dict[str, list[dict[str, str]]]:
    """The first ``per_type`` kept pairs of each task type (in the file's shuffled order)."""
    out: dict[str, list[dict[str, str]]] = {}
    for pair in pairs:
        shown = out.setdefault(pair.task_type, [])
        if len(shown) < per_type:
            shown.append(
                {
                    "instruction": pair.instruction,
                    "context": pair.context[:300],
                    "response": pair.response[:300],
                    "law_id": pair.law_id,
                    "article_label": pair.article_label,
                }
            )
    return out


def _write_jsonl(path: Path, pairs: list[InstructionPair]) -> None:
    lines = []
    for pair in pairs:
        row = dataclasses.asdict(pair)
        lines.append(json.dumps({name: row[name] for name in FIELDS}, ensure_ascii=False))
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
