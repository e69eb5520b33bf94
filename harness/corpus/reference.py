"""The reference corpus pipeline: the packaged snapshot through the default cleaners, structurer and
dedup, as ``benchmarks/mx_legal.yaml`` runs it.

The frozen task data is built from its ``dedup`` output, and the legal-QA items' supports are exact
substrings of its article texts; ``harness tasks build`` and the tests that check the shipped data
against the packaged corpus both run it through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.components import Article
    from harness.plugins import Registry

#: the ``corpus`` section of the reference pipeline (the default spec's, without split and blocks)
REFERENCE_CORPUS = """\
corpus:
  sources: [snapshot]
  cleaners: [unicode_repair, page_furniture, reform_notes, unwrap_lines, numeric_tables, quality]
  structurer: mx_articles
  dedup: [exact, {name: minhash, options: {threshold: 0.9}}]
"""
STAGES = ("source", "clean", "structure", "dedup")


def reference_articles(workdir: Path, registry: Registry | None = None) -> tuple[list[Article], Path]:
    """Run source → dedup of the reference pipeline in ``workdir``; return the articles and the
    path of ``articles.parquet``."""
    from harness.context import StageContext
    from harness.corpus.stages import corpus_stages, load_articles
    from harness.plugins import load_registry
    from harness.spec.load import load_spec

    registry = registry or load_registry()
    workdir.mkdir(parents=True, exist_ok=True)
    spec = workdir / "reference_corpus.yaml"
    spec.write_text(
        f"name: reference_corpus\nseed: 0\nmodel: {{id: none}}\n{REFERENCE_CORPUS}evaluation: {{tasks: [mx_legal_ppl]}}\n",
        encoding="utf-8",
    )
    # no model: the blocks stage, the only one that tokenizes, is not run
    stages = corpus_stages(load_spec(spec), registry, None)
    outputs: dict[str, Path] = {}
    for name in STAGES:
        stage = stages[name]
        ctx = StageContext(name, workdir / name, workdir / "scratch" / name, workdir)
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        stage.execute(ctx, {role: outputs[up.name] for role, up in stage.inputs.items()})
        outputs[name] = ctx.workdir
    path = outputs["dedup"] / "articles.parquet"
    return load_articles(path), path
