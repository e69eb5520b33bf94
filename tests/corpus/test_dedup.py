"""Exact and MinHash deduplication, and the worker-process paths of the corpus steps."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.components import Article
from harness.context import StageContext
from harness_plugins.corpus import dedup as dedup_module
from harness_plugins.corpus.dedup import ExactDedup, MinHashDedup

WORDS = "ley artículo federal derecho obligación sociedad trabajo salario patrón contrato juez pena".split()


def _article(i: int, text: str, law: str = "l") -> Article:
    return Article(law, "Ley", "ley", "body", str(i), i, [], text)


def _sentence(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 50)) for _ in range(n))


def test_exact_dedup_ignores_case_accents_and_punctuation() -> None:
    arts = [_article(1, "Se deroga."), _article(2, "SE DEROGA"), _article(3, "Se derogó."), _article(4, "se   deroga!")]
    kept, report = ExactDedup().deduplicate(arts)
    assert [a.label for a in kept] == ["1", "3"]
    assert report["clusters"] == 1 and report["largest_clusters"][0]["size"] == 3
    assert report["largest_clusters"][0]["kept"] == "l::body::1"


def test_minhash_removes_near_duplicates_only() -> None:
    rng = random.Random(0)
    base = _sentence(rng, 200).split()
    near = base.copy()
    near[100] = "distinta"  # one word changed in 200
    other = _sentence(rng, 200)
    arts = [_article(1, " ".join(base)), _article(2, other), _article(3, " ".join(near)), _article(4, "corto")]
    kept, report = MinHashDedup(MinHashDedup.Options(threshold=0.8)).deduplicate(arts)
    assert [a.label for a in kept] == ["1", "2", "4"]
    assert report["removed"] == 1 and report["largest_clusters"][0]["kept"] == "l::body::1"
    with pytest.raises(ValueError):
        MinHashDedup.Options(threshold=1.0)


def test_minhash_signatures_same_in_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1)
    arts = [_article(i, _sentence(rng, 40)) for i in range(60)]
    arts += [_article(100 + i, a.text) for i, a in enumerate(arts[:10])]  # exact copies: near-dups too
    monkeypatch.setenv("HARNESS_CORPUS_WORKERS", "1")
    serial, _ = MinHashDedup().deduplicate(arts)
    monkeypatch.setenv("HARNESS_CORPUS_WORKERS", "2")
    monkeypatch.setattr(dedup_module, "PARALLEL_MIN_TEXTS", 10)
    parallel, _ = MinHashDedup().deduplicate(arts)
    assert [a.label for a in parallel] == [a.label for a in serial] == [str(i) for i in range(60)]


def test_clean_and_structure_in_worker_processes_match_serial(
    txt_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.corpus import steps
    from harness.corpus.io import load_articles, read_documents, write_documents
    from harness_plugins.corpus.cleaners import PageFurniture, ReformNotes, UnwrapLines
    from harness_plugins.corpus.sources import RawTxt
    from harness_plugins.corpus.structure import MxArticles

    ctx = StageContext("source", tmp_path / "src", tmp_path / "s", tmp_path)
    ctx.workdir.mkdir()
    write_documents(ctx.workdir / "documents.parquet", RawTxt(RawTxt.Options(path=str(txt_folder))).documents(ctx))
    cleaners = [("page_furniture", PageFurniture()), ("reform_notes", ReformNotes()), ("unwrap_lines", UnwrapLines())]
    outputs = {}
    for mode, workers in (("serial", "1"), ("parallel", "2")):
        monkeypatch.setenv("HARNESS_CORPUS_WORKERS", workers)
        monkeypatch.setattr(steps, "PARALLEL_MIN_CHARS", 0)
        clean_ctx = StageContext("clean", tmp_path / mode / "clean", tmp_path / "s", tmp_path)
        clean_ctx.workdir.mkdir(parents=True)
        steps.run_cleaners(clean_ctx, ctx.workdir, cleaners)
        structure_ctx = StageContext("structure", tmp_path / mode / "structure", tmp_path / "s", tmp_path)
        structure_ctx.workdir.mkdir(parents=True)
        steps.run_structurer(structure_ctx, clean_ctx.workdir, MxArticles())
        outputs[mode] = (read_documents(clean_ctx.workdir / "documents.parquet"), load_articles(structure_ctx.workdir))
    assert outputs["parallel"] == outputs["serial"]
    assert len(outputs["serial"][1]) > 10
