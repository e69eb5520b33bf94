"""Spanish-safe text metrics: normalization, exact match, SQuAD-style token F1 and ROUGE.

Normalization keeps accents and ñ (they carry meaning: "año"/"ano", "él"/"el") and folds case,
punctuation, articles and whitespace, as SQuAD's normalizer does for English.  rouge-score's
default tokenizer keeps only ``[a-z0-9]`` and turns "niño" into "ni o"; ours tokenizes on Unicode
word characters instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Any

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_ARTICLES = re.compile(r"\b(el|la|los|las|un|una|unos|unas|lo)\b", re.UNICODE)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def normalize_es(text: str, drop_articles: bool = True) -> str:
    """Lower case, NFC, punctuation removed, Spanish articles dropped, spaces collapsed; accents kept."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _PUNCT.sub(" ", text)
    if drop_articles:
        text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens_es(text: str) -> list[str]:
    """Unicode word tokens of the normalized text."""
    return normalize_es(text).split()


def exact_match_es(reference: str, prediction: str) -> float:
    """1.0 when the normalized strings are equal."""
    return float(normalize_es(reference) == normalize_es(prediction))


def token_f1_es(reference: str, prediction: str) -> float:
    """SQuAD token-overlap F1 on normalized tokens."""
    ref, pred = tokens_es(reference), tokens_es(prediction)
    if not ref or not pred:
        return float(ref == pred)
    common = sum((Counter(ref) & Counter(pred)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


class UnicodeTokenizer:
    """rouge-score tokenizer that keeps accented letters (case folded, no stemming)."""

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased Unicode word tokens."""
        return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


@lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=UnicodeTokenizer())


def rouge_es(reference: str, prediction: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures with the Unicode tokenizer."""
    scores = _scorer().score(reference, prediction)
    return {name: score.fmeasure for name, score in scores.items()}


def first(values: Any) -> str:
    """lm-eval passes one-element lists of references/predictions to per-sample metrics."""
    if isinstance(values, (list, tuple)):
        return str(values[0]) if values else ""
    return str(values)
