"""The corpus report (Markdown and HTML): every input's fate, laws per category, articles, cleaners, dedup."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from harness.paths import write_atomic


def _load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def gather(source: Path, clean: Path, structure: Path, dedup: Path, split: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows, from the upstream stage folders and the split's counts."""
    inputs = _load_json(source / "inputs.json").get("inputs", {})
    cleaning = _load_json(clean / "cleaning.json")
    laws = pq.read_table(structure / "laws.parquet").to_pylist() if (structure / "laws.parquet").is_file() else []
    by_law = {law["id"]: law for law in laws}
    dropped = {d["id"]: d for d in cleaning.get("dropped", [])}
    fates = []
    for input_id, info in sorted(inputs.items()):
        # inputs are keyed by file; the document a loaded file became may carry another id
        doc_id = info.get("document", input_id)
        if info.get("status") != "loaded":
            fate = f"skipped: {info.get('reason', '')}"
        elif doc_id in dropped:
            fate = f"dropped by {dropped[doc_id]['dropped_by']}: {dropped[doc_id]['reason']}"
        elif doc_id in by_law:
            law = by_law[doc_id]
            fate = f"{law['articles']} articles ({law['body_articles']} body)"
        else:
            fate = "loaded"
        fates.append({"input": input_id, "fate": fate})
    categories = Counter(law["category"] for law in laws)
    return {
        "inputs": fates,
        "categories": dict(categories.most_common()),
        "laws": len(laws),
        "articles": sum(law["articles"] for law in laws),
        "body_articles": sum(law["body_articles"] for law in laws),
        "reform_notes": sum(law["reform_notes"] for law in laws),
        "derogated": sum(law["derogated_articles"] for law in laws),
        "largest": sorted(laws, key=lambda law: -law["characters"])[:10],
        "cleaners": cleaning.get("totals", {}),
        "dedup": _load_json(dedup / "dedup.json").get("steps", []),
        "split": split,
    }


def _rows(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """Report sections as (title, header, rows) tables shared by both formats."""
    s = data["split"]
    summary = [
        ["laws", str(data["laws"])],
        ["articles (after structure)", str(data["articles"])],
        ["body articles", str(data["body_articles"])],
        ["reform notes kept as metadata", str(data["reform_notes"])],
        ["derogated articles", str(data["derogated"])],
        [
            "held-out articles excluded",
            f"{s.get('heldout_excluded', 0)} ({s.get('heldout_excluded_by_id', 0)} by id, "
            f"{s.get('heldout_excluded_by_text', 0)} by text overlap)",
        ],
        ["train articles / words", f"{s.get('train', 0)} / {s.get('train_words', 0)}"],
        ["validation articles / words", f"{s.get('validation', 0)} / {s.get('validation_words', 0)}"],
    ]
    cleaners = [
        [name, ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "nothing"]
        for name, c in data["cleaners"].items()
    ]
    dedup = [[d["name"], str(d["before"]), str(d["after"]), str(d.get("clusters", ""))] for d in data["dedup"]]
    clusters = [
        [d["name"], str(c["size"]), c["kept"], c["text_sample"][:100]]
        for d in data["dedup"]
        for c in d.get("largest_clusters", [])[:5]
    ]
    largest = [
        [law["id"], law["title"][:70], str(law["body_articles"]), str(law["articles"]), str(law["reform_notes"])]
        for law in data["largest"]
    ]
    return [
        ("Summary", ["", "count"], summary),
        ("Laws per category", ["category", "laws"], [[k, str(v)] for k, v in data["categories"].items()]),
        ("What each cleaner removed", ["cleaner", "removed"], cleaners),
        ("Deduplication", ["step", "before", "after", "clusters"], dedup),
        ("Largest duplicate clusters", ["step", "size", "kept", "text"], clusters),
        ("Largest laws", ["id", "title", "body articles", "all articles", "reform notes"], largest),
        ("Every input and what became of it", ["input", "fate"], [[f["input"], f["fate"]] for f in data["inputs"]]),
    ]


def markdown(data: dict[str, Any]) -> str:
    """The report as Markdown."""
    out = ["# Corpus report", ""]
    for title, header, rows in _rows(data):
        out += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def to_html(data: dict[str, Any]) -> str:
    """The report as a standalone HTML page."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Corpus report</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body><h1>Corpus report</h1>",
    ]
    for title, header, rows in _rows(data):
        parts.append(
            f"<h2>{html.escape(title)}</h2><table><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in header)
            + "</tr>"
        )
        parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(workdir: Path, data: dict[str, Any]) -> None:
    """Write ``corpus_report.md`` and ``corpus_report.html``."""
    write_atomic(workdir / "corpus_report.md", markdown(data))
    write_atomic(workdir / "corpus_report.html", to_html(data))
