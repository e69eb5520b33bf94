"""Deterministic train/validation splits of the articles, with held-out evaluation articles excluded."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import Article
from harness.corpus.io import load_articles, write_articles, write_jsonl

if TYPE_CHECKING:
    from harness.context import StageContext
    from harness.spec.corpus import SplitSection


def heldout_manifest(task: str, base_dir: Path) -> Path | None:
    """``<task folder>/data/manifest.json`` for a task name (under ``tasks/``) or a path; None if absent."""
    candidates = [Path(task).expanduser()]
    if not candidates[0].is_absolute():
        candidates = [base_dir / task]
        try:
            from harness.paths import tasks_dir

            candidates.insert(0, tasks_dir() / task)
        except ImportError:  # pragma: no cover - harness_tasks not installed
            pass
    for folder in candidates:
        manifest = folder / "data" / "manifest.json"
        if manifest.is_file():
            return manifest
    return None


def _files_excluded_from(data: dict[str, Any], training: str) -> list[str]:
    """Manifest files whose articles ``training`` (``dapt`` or ``sft``) must not see; a file that
    does not say (``excluded_from``) is excluded from all training."""
    return sorted(
        name for name, entry in data.get("files", {}).items() if training in entry.get("excluded_from", [training])
    )


def heldout_ids(tasks: list[str], base_dir: Path, training: str = "dapt") -> tuple[set[str], dict[str, str | None]]:
    """Article ids of every task that ``training`` must not see, and per task a hash of them and of
    the item files they come from (for the cache key).

    ``dapt``: the manifest's ``heldout_article_ids``; ``sft`` adds its ``sft_excluded_article_ids``
    (the legal-QA items' articles, which stay in the DAPT corpus).
    """
    ids: set[str] = set()
    fingerprints: dict[str, str | None] = {}
    keys = ["heldout_article_ids"] + (["sft_excluded_article_ids"] if training == "sft" else [])
    for task in tasks:
        manifest = heldout_manifest(task, base_dir)
        if manifest is None:
            fingerprints[task] = None
            continue
        data = json.loads(manifest.read_text(encoding="utf-8"))
        task_ids = sorted({str(i) for key in keys for i in data.get(key, [])})
        ids.update(task_ids)
        # the ids and the item files: either changing changes what training must not see
        files = [f"{name}:{data['files'][name].get('sha256')}" for name in _files_excluded_from(data, training)]
        fingerprints[task] = hashlib.sha256("\n".join(task_ids + files).encode()).hexdigest()[:16]
    return ids, fingerprints


def heldout_texts(tasks: list[str], base_dir: Path) -> list[str]:
    """Every string of the frozen items the DAPT corpus must not contain (the manifest's files that
    are excluded from ``dapt``)."""
    from harness.instructions.decontaminate import read_text_file

    texts: list[str] = []
    for task in tasks:
        manifest = heldout_manifest(task, base_dir)
        if manifest is None:
            continue
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for name in _files_excluded_from(data, "dapt"):
            texts.extend(read_text_file(manifest.parent / name))
    return texts


def exact_keys(texts: list[str]) -> set[str]:
    """Normalised forms of the texts (case, punctuation and spacing folded)."""
    from harness.instructions.text import normalize

    return {key for key in (normalize(t) for t in texts) if key}


def dapt_text(article: Article) -> str:
    """The DAPT training text of one article: law title, hierarchy, heading and body."""
    where = " / ".join(article.path)
    kind = {"transitorio": "Transitorio. ", "decree_transitorio": "Transitorio de decreto de reforma. "}.get(
        article.part, ""
    )
    # decree transitorios carry "D3 " and repeated labels " (2)" only to keep their ids unique
    label = re.sub(r" \(\d+\)$", "", re.sub(r"^D\d+ ", "", article.label))
    head = f"{kind}Artículo {label}."
    lines = [article.law_title, where, f"{head} {article.text}"]
    return "\n".join(line for line in lines if line)


def focus_first(train: list[Article], focus_ids: set[str], scope: str) -> tuple[list[Article], int]:
    """``train`` with the focus articles first (``articles``: those ids; ``laws``: every article of
    their laws), each part in its shuffled order; returns the reordered list and the focus count."""
    laws = {article_id.split("::", 1)[0] for article_id in focus_ids}
    inside = [a for a in train if (a.article_id in focus_ids if scope == "articles" else a.law_id in laws)]
    chosen = {id(a) for a in inside}
    return inside + [a for a in train if id(a) not in chosen], len(inside)


def in_validation(article_id: str, seed: int, fraction: float) -> bool:
    """A stable coin flip per article: the same article lands in the same split for a given seed."""
    digest = hashlib.sha256(f"{seed}:{article_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def run_split(
    ctx: StageContext, articles_dir: Path, options: SplitSection, seed: int, tasks: list[str]
) -> dict[str, Any]:
    """Write train/validation articles and their DAPT JSONL; return counts."""
    articles = [a for a in load_articles(articles_dir / "articles.parquet") if a.text.strip()]
    excluded, _ = heldout_ids(tasks, ctx.base_dir)
    kept = [a for a in articles if a.article_id not in excluded]
    by_id = len(articles) - len(kept)
    by_text = 0
    if options.heldout_overlap is not None:
        from harness.instructions.decontaminate import Decontaminator
        from harness.instructions.text import normalize

        texts = heldout_texts(tasks, ctx.base_dir)
        index = Decontaminator(texts, n=options.heldout_ngram)
        same = exact_keys(texts)
        before = len(kept)
        kept = [a for a in kept if normalize(a.text) not in same and index.overlap(a.text) < options.heldout_overlap]
        by_text = before - len(kept)
    train = [a for a in kept if not in_validation(a.article_id, seed, options.validation_fraction)]
    validation = [a for a in kept if in_validation(a.article_id, seed, options.validation_fraction)]
    # shuffle so that packed blocks mix laws; the seed makes it reproducible
    random.Random(seed).shuffle(train)
    random.Random(seed + 1).shuffle(validation)
    if options.max_train_articles is not None:
        train = train[: options.max_train_articles]
    write_articles(ctx.workdir / "train.parquet", train)
    write_articles(ctx.workdir / "validation.parquet", validation)
    dapt = train
    focused = 0
    if options.dapt_focus is not None:
        dapt, focused = focus_first(train, heldout_ids(tasks, ctx.base_dir, "sft")[0] - excluded, options.dapt_focus)
    write_jsonl(ctx.workdir / "dapt_train.jsonl", (dapt_text(a) for a in dapt))
    write_jsonl(ctx.workdir / "dapt_validation.jsonl", (dapt_text(a) for a in validation))
    return {
        "articles": len(articles),
        "heldout_excluded": len(articles) - len(kept),
        "heldout_excluded_by_id": by_id,
        "heldout_excluded_by_text": by_text,
        "heldout_ids": len(excluded),
        "dapt_focus": options.dapt_focus,
        "dapt_focus_articles": focused,
        "train": len(train),
        "validation": len(validation),
        "train_words": sum(len(a.text.split()) for a in train),
        "validation_words": sum(len(a.text.split()) for a in validation),
        "seed": seed,
    }
