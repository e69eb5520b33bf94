"""Reading and writing the corpus stages' Parquet files (documents, articles, laws)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.components import Article, Document

ARTICLE_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("law_id", pa.string()),
        ("law_title", pa.string()),
        ("category", pa.string()),
        ("part", pa.string()),
        ("label", pa.string()),
        ("number", pa.int64()),
        ("path", pa.list_(pa.string())),
        ("text", pa.string()),
        ("reform_notes", pa.list_(pa.string())),
        ("derogated", pa.bool_()),
    ]
)
DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("category", pa.string()),
        ("text", pa.string()),
        ("metadata", pa.string()),
    ]
)


def _write(table: pa.Table, path: Path) -> None:
    # snappy: these files are rewritten by every stage, so speed beats size here
    pq.write_table(table, path, compression="snappy")


def write_documents(path: Path, documents: Iterable[Document]) -> int:
    """Write documents (metadata as JSON text); return how many."""
    rows = [
        {
            "id": d.id,
            "title": d.title,
            "category": d.category,
            "text": d.text,
            "metadata": json.dumps(d.metadata, ensure_ascii=False, sort_keys=True, default=str),
        }
        for d in documents
    ]
    _write(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), path)
    return len(rows)


def read_documents(path: Path) -> list[Document]:
    """Documents back from ``documents.parquet``."""
    rows = pq.read_table(path).to_pylist()
    return [Document(r["id"], r["title"], r["category"], r["text"], json.loads(r["metadata"] or "{}")) for r in rows]


def write_articles(path: Path, articles: Sequence[Article]) -> int:
    """Write articles with the columns of :meth:`Article.to_row`; return how many."""
    columns = {
        "article_id": [a.article_id for a in articles],
        "law_id": [a.law_id for a in articles],
        "law_title": [a.law_title for a in articles],
        "category": [a.category for a in articles],
        "part": [a.part for a in articles],
        "label": [a.label for a in articles],
        "number": [a.number for a in articles],
        "path": [a.path for a in articles],
        "text": [a.text for a in articles],
        "reform_notes": [a.reform_notes for a in articles],
        "derogated": [a.derogated for a in articles],
    }
    _write(pa.table(columns, schema=ARTICLE_SCHEMA), path)
    return len(articles)


def article_from_row(row: dict[str, Any]) -> Article:
    """An :class:`Article` from one row of ``articles.parquet`` (``article_id`` is derived)."""
    return Article(
        law_id=row["law_id"],
        law_title=row["law_title"],
        category=row["category"],
        part=row["part"],
        label=row["label"],
        number=int(row["number"]),
        path=list(row["path"] or []),
        text=row["text"],
        reform_notes=list(row["reform_notes"] or []),
        derogated=bool(row["derogated"]),
    )


def load_articles(path: str | Path) -> list[Article]:
    """Articles from ``articles.parquet`` (or a stage folder holding one, or train/validation parquet)."""
    path = Path(path)
    if path.is_dir():
        path = path / "articles.parquet"
    columns = pq.read_table(path).to_pydict()
    names = [f.name for f in ARTICLE_SCHEMA if f.name != "article_id"]
    return [article_from_row(dict(zip(names, values))) for values in zip(*(columns[n] for n in names))]


def articles_table(path: str | Path) -> pa.Table:
    """The raw Arrow table of an articles file, for column-wise work (filters, counts)."""
    path = Path(path)
    return pq.read_table(path / "articles.parquet" if path.is_dir() else path)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write plain rows (e.g. ``laws.parquet``)."""
    _write(pa.Table.from_pylist(rows), path)


def write_jsonl(path: Path, texts: Iterable[str]) -> int:
    """``{"text": …}`` per line, the format TRL, axolotl and LLaMA-Factory read; return the count."""
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for text in texts:
            handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl_texts(path: Path) -> list[str]:
    """The ``text`` field of each JSONL line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]
