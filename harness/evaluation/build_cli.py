"""``harness tasks build``: rebuild the frozen ``mx_legal`` task data.

Articles come from the reference corpus pipeline run on the packaged snapshot (the default), from
a pipeline's ``dedup`` output (``--articles .../articles.parquet``), or from the simple extractor
over the raw corpus (``--raw``; its texts are not the pipeline's, so the hand-written legal-QA
items, whose supports must be exact substrings of the pipeline's articles, do not verify against it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.components import Article
from harness.errors import DataError, HarnessError


def articles_from_parquet(path: Path) -> list[Article]:
    """Read ``articles.parquet`` (columns of ``Article.to_row()``) back into articles."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataError("articles file not found", file=str(path))
    fields = set(Article.__dataclass_fields__)
    articles = []
    for row in pq.read_table(path).to_pylist():
        values = {k: v for k, v in row.items() if k in fields}
        values["path"] = list(values.get("path") or [])
        values["reform_notes"] = list(values.get("reform_notes") or [])
        articles.append(Article(**values))
    return articles


def _source(args: argparse.Namespace, workdir: Path) -> tuple[list[Article], dict[str, Any]]:
    if args.articles or not args.raw:
        if args.articles:
            path = Path(args.articles)
            articles = articles_from_parquet(path)
        else:
            from harness.corpus.reference import reference_articles

            print("running the reference corpus pipeline on the packaged snapshot …", file=sys.stderr)
            articles, path = reference_articles(workdir)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return articles, {"kind": "corpus pipeline articles", "path": path.name, "sha256": digest}
    from harness.evaluation.articles_fallback import articles_from_raw_corpus

    raw = Path(args.raw)
    manifest = raw / "manifest.csv"
    if not manifest.is_file():
        raise DataError("raw corpus not found (no manifest.csv); pass --raw or --articles", file=str(raw))
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    return articles_from_raw_corpus(raw), {
        "kind": "raw corpus, simple fallback extractor (rebuild from the corpus pipeline when available)",
        "path": raw.name,
        "manifest_sha256": digest,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``harness tasks build``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="harness tasks build", description=__doc__)
    parser.add_argument("--articles", help="articles.parquet from the corpus pipeline's dedup stage")
    parser.add_argument(
        "--raw", help="raw corpus folder (manifest.csv + federales/txt) for the simple fallback extractor"
    )
    parser.add_argument(
        "--legal-qa", help="folder of legal-QA item sources (default: the shipped tasks/mx_legal/legal_qa)"
    )
    parser.add_argument("--out", help="output folder (default: tasks/mx_legal/data of the installed tasks)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from harness.evaluation.build import build_tasks
    from harness.evaluation.taskdata import data_dir

    try:
        with tempfile.TemporaryDirectory(prefix="harness-tasks-build-") as workdir:
            articles, source = _source(args, Path(workdir))
        out = Path(args.out) if args.out else data_dir()
        legal_qa = Path(args.legal_qa) if args.legal_qa else None
        manifest = build_tasks(articles, out, args.seed, source=source, legal_qa_dir=legal_qa)
    except HarnessError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    summary = {name: entry["items"] for name, entry in manifest["files"].items()}
    print(
        f"wrote {out}: {json.dumps(summary)}; {len(manifest['heldout_article_ids'])} held-out articles, "
        f"{len(manifest['sft_excluded_article_ids'])} legal-QA articles kept out of instruction generation"
    )
    baselines = ", ".join(f"{k} {v:.3f}" for k, v in manifest["legal_qa_baselines"].items())
    print(f"legal-QA model-free baselines (chance 0.25): {baselines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
