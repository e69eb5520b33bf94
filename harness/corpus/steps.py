"""What the source, clean, structure and dedup stages do (their ``execute`` bodies).

Cleaning and structuring are per law and CPU-bound, so they run in worker processes when there is
more than one core and enough text to pay for the start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import Article, Cleaner, DataSource, Deduplicator, Document, Dropped, Structurer
from harness.corpus.io import load_articles, read_documents, write_articles, write_documents, write_rows
from harness.errors import DataError, HarnessError, PluginError
from harness.paths import write_json

if TYPE_CHECKING:
    from harness.context import StageContext

#: below this many characters a process pool costs more than it saves
PARALLEL_MIN_CHARS = 2_000_000


def workers() -> int:
    """Worker processes for per-law work: ``$HARNESS_CORPUS_WORKERS`` or the usable cores."""
    env = os.environ.get("HARNESS_CORPUS_WORKERS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_WORKER_FN: Callable[[Any], Any] | None = None


def _init(fn: Callable[[Any], Any]) -> None:
    global _WORKER_FN
    _WORKER_FN = fn


def _call(item: Any) -> Any:
    assert _WORKER_FN is not None
    return _WORKER_FN(item)


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any], ctx: StageContext, what: str, chars: int) -> list[Any]:
    """``[fn(x) for x in items]`` in order, in worker processes when it pays; with progress."""
    n = min(workers(), len(items))
    if n <= 1 or chars < PARALLEL_MIN_CHARS or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(item) for item in ctx.track(items, what, total=len(items))]
    # fork: workers inherit the components; largest laws first keeps both cores busy to the end
    order = sorted(range(len(items)), key=lambda i: -_size(items[i]))
    results: list[Any] = [None] * len(items)
    with ProcessPoolExecutor(
        n, mp_context=multiprocessing.get_context("fork"), initializer=_init, initargs=(fn,)
    ) as pool:
        done = pool.map(_call, [items[i] for i in order], chunksize=4)
        for i, result in zip(order, ctx.track(done, what, total=len(items))):
            results[i] = result
    return results


def _size(item: Any) -> int:
    return len(item.text) if isinstance(item, Document) else 0


# --- source ---------------------------------------------------------------------------------


def run_sources(ctx: StageContext, sources: list[tuple[str, DataSource]]) -> dict[str, Any]:
    """Collect every source's documents into ``documents.parquet`` and the fate of each input."""
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for name, source in sources:
        try:
            for doc in ctx.track(source.documents(ctx), f"source {name}"):
                if doc.id in seen:
                    old, n = doc.id, 1
                    while doc.id in seen:  # another law of the same source may carry the new id too
                        doc.id = f"{old}@{name}" + (f"-{n}" if n > 1 else "")
                        n += 1
                    ctx.warn(
                        f"document id {old!r} from source {name!r} already came from {seen[old]!r}; now {doc.id!r}"
                    )
                    entry = ctx.inputs.get(str(doc.metadata.get("input", "")))
                    if entry is not None:
                        entry["document"] = doc.id
                seen[doc.id] = name
                doc.metadata.setdefault("source", name)
                docs.append(doc)
        except HarnessError:
            raise
        except Exception as exc:
            raise PluginError(f"data source {name!r} failed: {type(exc).__name__}: {exc}", plugin=name) from exc
    if not docs:
        raise DataError("the corpus sources yielded no documents", field="corpus.sources")
    write_documents(ctx.workdir / "documents.parquet", docs)
    write_json(ctx.workdir / "inputs.json", {"inputs": ctx.inputs, "warnings": ctx.warnings})
    skipped = sum(1 for v in ctx.inputs.values() if v.get("status") != "loaded")
    return {"documents": len(docs), "skipped_inputs": skipped, "characters": sum(len(d.text) for d in docs)}


# --- clean ----------------------------------------------------------------------------------


def _clean_one(cleaners: list[tuple[str, Cleaner]]) -> Callable[[Document], tuple[Any, dict[str, dict[str, int]]]]:
    def clean(doc: Document) -> tuple[Any, dict[str, dict[str, int]]]:
        removed: dict[str, dict[str, int]] = {}
        current: Document | Dropped = doc
        for name, cleaner in cleaners:
            try:
                result = cleaner.clean(current)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - a plugin's failure is reported with the plugin's name
                return {"failed_in": name, "reason": f"{type(exc).__name__}: {exc}"}, removed
            removed[name] = {k: v for k, v in result.removed.items() if v}
            current = result.document
            if isinstance(current, Dropped):
                return {"dropped_by": name, "reason": current.reason}, removed
        return current, removed

    return clean


def run_cleaners(
    ctx: StageContext,
    documents_dir: Path,
    cleaners: list[tuple[str, Cleaner]],
    on_error: str = "fail",
    owners: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Apply the cleaners in spec order; write kept documents and ``cleaning.json``.

    A cleaner that raises fails the stage with a :class:`PluginError` naming its plugin and
    distribution (``owners``), or, under ``on_error: skip``, drops that document with the error."""
    start = time.perf_counter()
    docs = read_documents(documents_dir / "documents.parquet")
    results = parallel_map(_clean_one(cleaners), docs, ctx, "clean", sum(len(d.text) for d in docs))
    kept: list[Document] = []
    totals: dict[str, Counter[str]] = {name: Counter() for name, _ in cleaners}
    per_doc: dict[str, dict[str, dict[str, int]]] = {}
    dropped: list[dict[str, str]] = []
    for doc, (outcome, removed) in zip(docs, results):
        per_doc[doc.id] = removed
        for name, counts in removed.items():
            totals[name].update(counts)
        if isinstance(outcome, Document):
            kept.append(outcome)
        elif "failed_in" in outcome:
            name = outcome["failed_in"]
            plugin, dist = (owners or {}).get(name, (name, "unknown"))
            message = f"cleaner {name!r} failed on document {doc.id!r}: {outcome['reason']}"
            if on_error != "skip":
                raise PluginError(message, plugin=plugin, distribution=dist)
            ctx.warn(f"{message}; document skipped (corpus.on_error: skip)")
            dropped.append(
                {"id": doc.id, "title": doc.title, "dropped_by": name, "reason": f"failed: {outcome['reason']}"}
            )
        else:
            dropped.append({"id": doc.id, "title": doc.title, **outcome})
    write_documents(ctx.workdir / "documents.parquet", kept)
    report = {
        "order": [name for name, _ in cleaners],
        "totals": {name: dict(counter) for name, counter in totals.items()},
        "dropped": dropped,
        "per_document": per_doc,
    }
    write_json(ctx.workdir / "cleaning.json", report)
    return {
        "documents": len(kept),
        "dropped": len(dropped),
        "seconds": round(time.perf_counter() - start, 2),
        "removed": report["totals"],
    }


# --- structure ------------------------------------------------------------------------------


def _structure_one(structurer: Structurer) -> Callable[[Document], tuple[list[Article], dict[str, Any]]]:
    def structure(doc: Document) -> tuple[list[Article], dict[str, Any]]:
        parse = getattr(structurer, "parse", None)
        if callable(parse):
            return parse(doc)
        return structurer.structure(doc), {}

    return structure


def run_structurer(ctx: StageContext, documents_dir: Path, structurer: Structurer) -> dict[str, Any]:
    """Split every law into articles; write ``articles.parquet`` and ``laws.parquet``."""
    docs = read_documents(documents_dir / "documents.parquet")
    results = parallel_map(_structure_one(structurer), docs, ctx, "structure", sum(len(d.text) for d in docs))
    articles: list[Article] = []
    laws: list[dict[str, Any]] = []
    for doc, (arts, summary) in zip(docs, results):
        articles.extend(arts)
        parts = Counter(a.part for a in arts)
        laws.append(
            {
                "id": doc.id,
                "title": doc.title,
                "category": doc.category,
                "last_reform": str(doc.metadata.get("last_reform", "")),
                "articles": len(arts),
                "body_articles": parts.get("body", 0),
                "transitorio_articles": parts.get("transitorio", 0),
                "decree_transitorio_articles": parts.get("decree_transitorio", 0),
                "derogated_articles": sum(a.derogated for a in arts),
                "reform_notes": sum(len(a.reform_notes) for a in arts),
                "characters": len(doc.text),
                "rejected_headings": int(summary.get("rejected_headings", 0)),
                "notes_outside_articles": int(summary.get("notes_outside_articles", 0)),
            }
        )
        if not arts:
            ctx.warn(f"{doc.id}: no articles found")
    write_articles(ctx.workdir / "articles.parquet", articles)
    write_rows(ctx.workdir / "laws.parquet", laws)
    parts = Counter(a.part for a in articles)
    return {
        "laws": len(laws),
        "articles": len(articles),
        "parts": dict(parts),
        "reform_notes": sum(law["reform_notes"] for law in laws),
        "derogated": sum(law["derogated_articles"] for law in laws),
    }


# --- dedup ----------------------------------------------------------------------------------


def run_dedup(ctx: StageContext, articles_dir: Path, dedups: list[tuple[str, Deduplicator]]) -> dict[str, Any]:
    """Apply the deduplicators in order; write kept articles and ``dedup.json``."""
    articles = load_articles(articles_dir / "articles.parquet")
    steps = []
    for name, dedup in dedups:
        before = len(articles)
        started = time.perf_counter()
        articles, report = dedup.deduplicate(articles)
        steps.append(
            {
                "name": name,
                "before": before,
                "after": len(articles),
                "seconds": round(time.perf_counter() - started, 2),
                **report,
            }
        )
    write_articles(ctx.workdir / "articles.parquet", articles)
    write_json(ctx.workdir / "dedup.json", {"steps": steps})
    return {"articles": len(articles), "removed": {s["name"]: s["before"] - s["after"] for s in steps}}
