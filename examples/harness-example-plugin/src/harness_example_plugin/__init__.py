"""An example third-party plugin for harness: one cleaner and one metric."""

from __future__ import annotations

import re
from statistics import mean
from typing import Any

from harness import hookimpl
from harness.components import Cleaner, CleanResult, Document, Metric, MetricSpec, Options


class EditorialNotesOptions(Options):
    patterns: list[str] = [r"^\s*Nota de vigencia:", r"^\s*N\. de E\."]


class StripEditorialNotes(Cleaner):
    """Drop editorial-note lines, which are not law text."""

    Options = EditorialNotesOptions
    description = "drop editorial-note lines (Nota de vigencia, N. de E.)"

    def clean(self, doc: Document) -> CleanResult:
        patterns = [re.compile(p) for p in self.options.patterns]
        kept, removed = [], 0
        for line in doc.text.splitlines():
            if any(p.search(line) for p in patterns):
                removed += 1
            else:
                kept.append(line)
        doc.text = "\n".join(kept)
        return CleanResult(doc, {"editorial_note_lines": removed})


ARTICLE = re.compile(r"\bart(?:[íi]culo|\.)s?\s+(\d+)", re.IGNORECASE)


def cited_articles(text: str) -> set[str]:
    """Article numbers cited in ``text``."""
    return set(ARTICLE.findall(text))


def article_citation_match(references: list[str], predictions: list[str], **_: Any) -> float:
    """lm-eval per-sample metric: do prediction and reference cite the same articles?"""
    return float(cited_articles(predictions[0]) == cited_articles(references[0]))


class ArticleCitationMatch(Metric):
    """Exact match of the set of cited article numbers."""

    description = "same set of cited article numbers as the reference"

    def spec(self) -> MetricSpec:
        return MetricSpec(fn=article_citation_match, aggregation=mean, higher_is_better=True)


@hookimpl
def register_cleaners(register) -> None:
    """Register the example cleaner."""
    register("strip_editorial_notes", StripEditorialNotes)


@hookimpl
def register_metrics(register) -> None:
    """Register the example metric."""
    register("article_citation_match", ArticleCitationMatch)
