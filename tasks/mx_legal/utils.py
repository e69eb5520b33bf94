"""Loaders and helpers for the ``mx_legal`` lm-eval tasks.

The data is read through :mod:`harness.evaluation.taskdata`, which resolves it from this
package's own folder (so the tasks work from any working directory) and refuses data that no
longer matches ``data/manifest.json``.  Importing this module also makes the harness's metrics
(``exact_match_es``, ``token_f1_es``, ``rouge*_es``, ``bertscore_f1``) known to lm-eval, through
the harness's one bridge, so plain ``lm_eval --include_path tasks`` can score these tasks.
"""

from __future__ import annotations

from typing import Any

from harness.evaluation.metrics_bridge import ensure_pushed
from harness.evaluation.taskdata import load_items

ensure_pushed()


def _dataset(key: str) -> Any:
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(load_items(key))})


def load_ppl(**_: Any) -> Any:
    """Held-out articles for ``mx_legal_ppl``."""
    return _dataset("ppl")


def load_qa_mc(**_: Any) -> Any:
    """Multiple-choice items for ``mx_legal_law_id``."""
    return _dataset("mc")


def load_qa_gen(**_: Any) -> Any:
    """Cloze short-answer items for ``mx_legal_cloze``."""
    return _dataset("gen")


def load_sum(**_: Any) -> Any:
    """Chapter → heading items for ``mx_legal_heading``."""
    return _dataset("sum")


def load_legal_qa(**_: Any) -> Any:
    """The hand-written legal-QA items (``mx_legal_qa_closed``, ``mx_legal_qa_open``)."""
    return _dataset("lqa")


def load_legal_qa_short(**_: Any) -> Any:
    """The legal-QA items that have a short gold answer (``mx_legal_qa_short``)."""
    import datasets

    rows = [row for row in load_items("lqa") if row.get("short_answer")]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def score_short_answer(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Spanish exact match and token F1 of the generated answer, best over the accepted answers."""
    from harness_plugins.metrics.spanish import exact_match_es, token_f1_es

    prediction = results[0].strip()
    accepted = doc["accept"] or [doc["short_answer"]]
    return {
        "exact_match_es": max(exact_match_es(answer, prediction) for answer in accepted),
        "token_f1_es": max(token_f1_es(answer, prediction) for answer in accepted),
    }
