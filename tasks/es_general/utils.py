"""Loaders and scoring for the ``es_general`` tasks (general-domain Spanish: the forgetting check).

The data is the Spanish XQuAD file in ``data/`` (CC BY-SA 4.0; see ``data/SOURCE.md``), read from
this package's folder so the tasks work offline and from any working directory.  The file is
checked against its SHA-256 before use.

``process_results_qa`` is SQuAD v1.1's exact match and F1 against the first reference answer,
which is what lm-eval's own ``xquad_es`` computes.  lm-eval's ``xquad/utils.py`` gets them from
``transformers.data.metrics.squad_metrics``, which transformers 5 removed, so the official
normalisation (lower case, ASCII punctuation and English articles dropped, spaces folded) is
written out here, line for line the same.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "xquad.es.json"
SHA256 = "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e"
_PUNCTUATION = frozenset(string.punctuation)


@lru_cache(maxsize=1)
def _records() -> tuple[dict[str, Any], ...]:
    raw = DATA.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        from harness.errors import DataError

        raise DataError(f"XQuAD file does not match its SHA-256 ({digest[:12]}… ≠ {SHA256[:12]}…)", file=str(DATA))
    rows = []
    for article in json.loads(raw.decode("utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"].lstrip("\ufeff")
            shift = len(paragraph["context"]) - len(context)  # answer offsets count the byte-order mark
            for qa in paragraph["qas"]:
                rows.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in qa["answers"]],
                            "answer_start": [a["answer_start"] - shift for a in qa["answers"]],
                        },
                    }
                )
    return tuple(rows)


def load_xquad(**_: Any) -> Any:
    """XQuAD-es in lm-eval's ``xquad`` layout (one ``validation`` split, 1,190 questions)."""
    import datasets

    return datasets.DatasetDict({"validation": datasets.Dataset.from_list(list(_records()))})


def load_paragraphs(**_: Any) -> Any:
    """The 240 distinct XQuAD-es paragraphs, in file order, as perplexity documents."""
    import datasets

    seen: dict[str, None] = {}
    for row in _records():
        seen.setdefault(row["context"], None)
    docs = [{"id": f"xquad-es-p{i:03d}", "text": text} for i, text in enumerate(seen)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def normalize_answer(text: str) -> str:
    """SQuAD v1.1's answer normalisation."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def compute_exact(gold: str, prediction: str) -> int:
    """1 when the normalised answers are equal."""
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_f1(gold: str, prediction: str) -> float:
    """Token-overlap F1 of the normalised answers (1.0 when both are empty)."""
    gold_tokens = normalize_answer(gold).split()
    pred_tokens = normalize_answer(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    common = sum((collections.Counter(gold_tokens) & collections.Counter(pred_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def process_results_qa(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval's ``xquad`` scoring: exact match and F1 against the first reference."""
    prediction = results[0]
    reference = doc["answers"]["text"][0]
    return {"exact_match": compute_exact(reference, prediction), "f1": compute_f1(reference, prediction)}
