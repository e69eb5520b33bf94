"""Build the frozen ``mx_legal`` task data from held-out articles, deterministically.

Articles are held out by a seeded hash of their ``article_id`` (so adding a law elsewhere does not
reshuffle the choice), chapters for summarization first, then articles for perplexity, multiple
choice and cloze QA, each article used by one task only.  Every output is sorted JSON lines; the
manifest records the content hash of each file and every held-out article id, which the corpus
split excludes from training.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.components import Article
from harness.errors import DataError
from harness.evaluation.taskdata import EXCLUDED_FROM, FILES, MANIFEST, file_sha256
from harness.paths import write_atomic, write_json

SIZES = {"ppl": 1000, "mc": 500, "gen": 300, "sum": 200}
FORMAT_VERSION = 2
#: the Markdown sheet of every legal-QA item with its article, for review by a lawyer
REVIEW_SHEET = "legal_qa_review.md"
_HEADING_SPLIT = re.compile(
    r"^(?:LIBRO|T[IÍ]TULO|CAP[IÍ]TULO|SECCI[OÓ]N)\s+(?:[IVXLC]+|\d+|[ÚU]NICO|[A-ZÁÉÍÓÚ]+[OA])\b\.?\s*(.*)$",
    re.IGNORECASE,
)
_WORD = re.compile(r"^[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]+$")
_MAX_GENERIC_SHARE = 0.15


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def heading_name(heading: str) -> str:
    """``"CAPÍTULO II Del Patrimonio"`` → ``"Del Patrimonio"`` (empty when the heading has no name)."""
    heading = heading.strip()
    if " — " in heading:  # the corpus structurer's "CAPÍTULO II — Del Patrimonio"
        return heading.split(" — ", 1)[1].strip()
    match = _HEADING_SPLIT.match(heading)
    return match.group(1).strip(" —-:.") if match else ""


def _usable(article: Article, low: int = 150, high: int = 2500) -> bool:
    return not article.derogated and low <= len(article.text) <= high


def _flat(text: str) -> str:
    """One line: prompts put article text on a single line."""
    return " ".join(text.split())


def _chapters(articles: list[Article]) -> dict[tuple[str, str], list[Article]]:
    chapters: dict[tuple[str, str], list[Article]] = defaultdict(list)
    for article in articles:
        if article.path and re.match(r"^CAP[IÍ]TULO", article.path[-1], re.IGNORECASE):
            chapters[(article.law_id, " / ".join(article.path))].append(article)
    return chapters


def _summaries(articles: list[Article], seed: int, size: int) -> list[dict[str, Any]]:
    """Chapter text → its official heading; generic headings capped so the task is not one answer."""
    items: list[dict[str, Any]] = []
    generic = 0
    chapters = _chapters(articles)
    for key in sorted(chapters, key=lambda k: _rank(seed, "sum:" + "::".join(k))):
        members = [a for a in chapters[key] if not a.derogated]
        name = heading_name(key[1].split(" / ")[-1])
        if len(members) < 2 or not (3 <= len(name) <= 120) or name.upper().startswith("ÚNICO"):
            continue
        is_generic = "disposiciones generales" in name.lower() or "generalidades" in name.lower()
        if is_generic and generic >= _MAX_GENERIC_SHARE * size:
            continue
        generic += is_generic
        text = _flat(" ".join(a.text for a in members))
        items.append(
            {
                "id": f"sum-{len(items):04d}",
                "law_id": key[0],
                "law_title": members[0].law_title,
                "chapter_path": key[1],
                "article_ids": [a.article_id for a in members],
                "text": text[:1500].rsplit(" ", 1)[0] if len(text) > 1500 else text,
                "summary": name,
            }
        )
        if len(items) == size:
            break
    return items


def _mask_title(text: str, title: str) -> str:
    return re.sub(re.escape(title), "esta ley", text, flags=re.IGNORECASE) if title else text


def _multiple_choice(pool: list[Article], titles_by_category: dict[str, list[str]], seed: int, size: int) -> list[dict]:
    """Which law does this article belong to: 4 titles, distractors from the same category."""
    rng = random.Random(seed)
    items = []
    for article in pool:
        others = [t for t in titles_by_category.get(article.category, []) if t != article.law_title]
        if len(others) < 3:
            others = [t for t in titles_by_category["__all__"] if t != article.law_title]
        choices = rng.sample(sorted(others), 3)
        gold = rng.randrange(4)
        choices.insert(gold, article.law_title)
        excerpt = _mask_title(_flat(article.text), article.law_title)[:600]
        items.append(
            {
                "id": f"mc-{len(items):04d}",
                "article_id": article.article_id,
                "article": excerpt,
                "choices": choices,
                "gold": gold,
            }
        )
        if len(items) == size:
            break
    return items


def _cloze(article: Article, rng: random.Random) -> dict[str, Any] | None:
    """Blank a span of 1–3 words (one of them 6+ letters) in the first 500 characters."""
    words = _flat(article.text)[:500].split(" ")
    if len(words) < 12:
        return None
    span = rng.choice([1, 1, 2, 3])
    candidates = [
        i
        for i in range(4, len(words) - span - 1)
        if all(_WORD.match(w) for w in words[i : i + span]) and max(len(w) for w in words[i : i + span]) >= 6
    ]
    if not candidates:
        return None
    start = rng.choice(candidates)
    answer = " ".join(words[start : start + span])
    context = " ".join([*words[:start], "_____", *words[start + span :]])
    return {
        "article_id": article.article_id,
        "law_title": article.law_title,
        "context": context,
        "answer": answer,
    }


def build_items(articles: list[Article], seed: int, sizes: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """The items of the four tasks (pure function of the articles and the seed)."""
    sizes = {**SIZES, **(sizes or {})}
    # transitory and decree articles repeat across laws: only body articles are held out
    articles = sorted((a for a in articles if a.part == "body"), key=lambda a: a.article_id)
    if len({a.article_id for a in articles}) != len(articles):
        articles = list({a.article_id: a for a in articles}.values())
    summaries = _summaries(articles, seed, sizes["sum"])
    used = {aid for item in summaries for aid in item["article_ids"]}
    pool = sorted(
        (a for a in articles if a.article_id not in used and _usable(a)),
        key=lambda a: _rank(seed, a.article_id),
    )
    titles: dict[str, list[str]] = defaultdict(list)
    for title, category in sorted({(a.law_title, a.category) for a in articles}):
        titles[category].append(title)
        titles["__all__"].append(title)
    ppl = [
        {"id": f"ppl-{i:04d}", "article_id": a.article_id, "law_title": a.law_title, "text": a.text}
        for i, a in enumerate(pool[: sizes["ppl"]])
    ]
    rest = pool[sizes["ppl"] :]
    mc = _multiple_choice(rest, titles, seed, sizes["mc"])
    rest = rest[len(mc) :]
    rng = random.Random(seed + 1)
    gen: list[dict[str, Any]] = []
    for article in rest:
        item = _cloze(article, rng)
        if item is not None:
            gen.append({"id": f"gen-{len(gen):04d}", **item})
        if len(gen) == sizes["gen"]:
            break
    out = {"ppl": ppl, "mc": mc, "gen": gen, "sum": summaries}
    short = [f"{k}: {len(v)} < {sizes[k]}" for k, v in out.items() if len(v) < sizes[k]]
    if short:
        raise DataError(f"not enough held-out material for the task data ({'; '.join(short)})")
    return out


def legal_qa_rows(articles: list[Article], heldout: set[str], folder: Path | None = None) -> list[dict[str, Any]]:
    """The hand-written legal-QA items, verified against the articles, as frozen rows."""
    from harness.evaluation.legal_qa import frozen_rows, read_sources, verify_against_corpus

    sources = read_sources(folder)
    verify_against_corpus(sources, articles, heldout)
    return frozen_rows(sources, articles)


def build_tasks(
    articles: list[Article],
    out_dir: Path,
    seed: int,
    source: dict[str, Any] | None = None,
    legal_qa_dir: Path | None = None,
) -> dict:
    """Write ``<task>.jsonl`` files and ``manifest.json`` into ``out_dir``; return the manifest.

    The generated tasks' articles are held out of all training; the legal-QA items' articles
    (``legal_qa_dir``, default the shipped sources) only of instruction generation.
    """
    from harness.evaluation.legal_qa import baselines, review_sheet

    items = build_items(articles, seed)
    heldout = {aid for rows in items.values() for row in rows for aid in row.get("article_ids") or [row["article_id"]]}
    items["lqa"] = legal_qa_rows(articles, heldout, legal_qa_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for key, rows in items.items():
        name = FILES[key]
        text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
        write_atomic(out_dir / name, text)
        (out_dir / name).chmod(0o644)  # committed files: readable by everyone
        files[name] = {"items": len(rows), "sha256": file_sha256(out_dir / name), "excluded_from": EXCLUDED_FROM[key]}
    write_atomic(out_dir / REVIEW_SHEET, review_sheet(items["lqa"]))
    (out_dir / REVIEW_SHEET).chmod(0o644)
    manifest = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "source": source or {},
        "articles_seen": len(articles),
        "files": files,
        "heldout_article_ids": sorted(heldout),
        "sft_excluded_article_ids": sorted({row["article_id"] for row in items["lqa"]}),
        "legal_qa_baselines": baselines(items["lqa"]),
    }
    write_json(out_dir / MANIFEST, manifest)
    (out_dir / MANIFEST).chmod(0o644)
    return manifest
