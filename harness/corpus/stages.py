"""Stage builders of the corpus pipeline: source → clean → structure → dedup → split → blocks.

Each stage's ``config`` holds the identity of the components it uses and the spec options that
change its output, so one changed cleaner option changes the ``clean`` key and, through input keys,
everything downstream but nothing upstream.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import Article
from harness.corpus.io import articles_table, load_articles, read_documents
from harness.runner.stage import Stage

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.context import StageContext
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec

#: bump when the files a corpus stage writes change for the same inputs and components
FORMAT = 1

__all__ = ["articles_table", "corpus_stages", "load_articles", "read_documents", "stage_articles"]


def stage_articles(output: Path, split: str = "articles") -> list[Article]:
    """Articles of a stage folder: ``articles`` (structure/dedup), ``train`` or ``validation`` (split)."""
    return load_articles(Path(output) / f"{split}.parquet")


def data_fingerprint(path: Any, base_dir: Path) -> dict[str, Any] | None:
    """Where a source's ``path`` option points and a hash of the names and contents of the files
    there (xxh64: the 51 MB corpus in a fraction of a second), so an edit that keeps a file's size
    and modification time (``tar``, ``rsync -a``) still changes the source key."""
    import xxhash

    if not isinstance(path, str):
        return None
    root = Path(path).expanduser()
    root = root if root.is_absolute() else base_dir / root
    if not root.exists():
        return {"path": str(root), "missing": True}
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = xxhash.xxh64()
    for file in files:
        digest.update((str(file.relative_to(root)) if file != root else file.name).encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return {"path": str(root.resolve()), "files": len(files), "content_xxh64": digest.hexdigest()}


def corpus_stages(loaded: LoadedSpec, registry: Registry, model: ResolvedModel | None) -> dict[str, Stage]:
    """The six corpus stages of ``loaded``'s spec, chained through ``inputs``; without a ``model``
    the five before ``blocks`` (the only one that tokenizes)."""
    corpus = loaded.spec.corpus
    seed = corpus.split.seed if corpus.split.seed is not None else loaded.spec.seed

    def built(family: str, refs: list[Any]) -> list[tuple[str, Any]]:
        return [(ref.name, registry.build(family, ref)) for ref in refs]

    def ident(family: str, refs: list[Any]) -> list[dict[str, Any]]:
        return [registry.identity(family, ref) for ref in refs]

    def source(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.steps import run_sources

        return run_sources(ctx, built("data_sources", corpus.sources))

    def clean(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.steps import run_cleaners

        plugins = {ref.name: registry.get("cleaners", ref.name) for ref in corpus.cleaners}
        owners = {name: (r.plugin, r.distribution) for name, r in plugins.items()}
        return run_cleaners(ctx, inputs["documents"], built("cleaners", corpus.cleaners), corpus.on_error, owners)

    def structure(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.steps import run_structurer

        return run_structurer(ctx, inputs["documents"], registry.build("structurers", corpus.structurer))

    def dedup(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.steps import run_dedup

        return run_dedup(ctx, inputs["articles"], built("deduplicators", corpus.dedup))

    tasks = list(corpus.split.exclude_heldout_from)

    def split(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.report import gather, write_reports
        from harness.corpus.split import run_split

        record = run_split(ctx, inputs["articles"], corpus.split, seed, tasks)
        data = gather(inputs["source"], inputs["clean"], inputs["structure"], inputs["articles"], record)
        write_reports(ctx.workdir, data)
        return record

    def blocks(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        from harness.corpus.blocks import run_blocks

        return run_blocks(ctx, inputs["split"], corpus.blocks, model)

    from harness.corpus.split import heldout_ids

    _, heldout = heldout_ids(tasks, loaded.base_dir)
    # a DAPT focus reads the legal-QA articles, which only the sft exclusion lists
    focus = heldout_ids(tasks, loaded.base_dir, "sft")[1] if corpus.split.dapt_focus else None
    source_config = {
        "format": FORMAT,
        "sources": ident("data_sources", corpus.sources),
        "data": [data_fingerprint(ref.options.get("path"), loaded.base_dir) for ref in corpus.sources],
    }
    s_source = Stage("source", "source", source_config, source)
    s_clean = Stage(
        "clean",
        "clean",
        {"format": FORMAT, "cleaners": ident("cleaners", corpus.cleaners)},
        clean,
        inputs={"documents": s_source},
    )
    s_structure = Stage(
        "structure",
        "structure",
        {"format": FORMAT, "structurer": registry.identity("structurers", corpus.structurer)},
        structure,
        inputs={"documents": s_clean},
    )
    s_dedup = Stage(
        "dedup",
        "dedup",
        {"format": FORMAT, "dedup": ident("deduplicators", corpus.dedup)},
        dedup,
        inputs={"articles": s_structure},
    )
    split_config = {
        "format": FORMAT,
        "split": corpus.split.model_dump(mode="json"),
        "seed": seed,
        "heldout": heldout,
        "focus": focus,
    }
    s_split = Stage(
        "split",
        "split",
        split_config,
        split,
        inputs={"articles": s_dedup, "source": s_source, "clean": s_clean, "structure": s_structure},
    )
    stages = {"source": s_source, "clean": s_clean, "structure": s_structure, "dedup": s_dedup, "split": s_split}
    if model is not None:
        blocks_config = {
            "format": FORMAT,
            "blocks": corpus.blocks.model_dump(mode="json"),
            "tokenizer": {
                "reference": model.reference,
                "path": str(model.path),
                "revision": model.revision,
                "source": model.source,
            },
        }
        stages["blocks"] = Stage("blocks", "blocks", blocks_config, blocks, inputs={"split": s_split})
    return stages
