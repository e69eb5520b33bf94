"""The model side of evaluation: build a system's model and wrap it for lm-eval.

``HarnessLM`` is lm-eval's ``HFLM`` with one fix: ``loglikelihood_rolling`` encodes documents
without the tokenizer's BOS.  lm-eval already puts its prefix token (BOS) in front of every
rolling window as context; with a tokenizer that adds BOS itself, the document's own BOS becomes
the first *scored* token and inflates perplexity (lm-eval #3333).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lm_eval.models.huggingface import HFLM

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.plan import SystemPlan

log = logging.getLogger("harness")


class HarnessLM(HFLM):
    """``HFLM`` whose rolling loglikelihood never scores a BOS token as text."""

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        """lm-eval's rolling loglikelihood with documents encoded without special tokens."""
        saved = self.add_bos_token
        # tok_encode reads add_bos_token: False → add_special_tokens=False; the prefix token stays
        self.add_bos_token = False
        try:
            return super().loglikelihood_rolling(requests, disable_tqdm=disable_tqdm)
        finally:
            self.add_bos_token = saved


def build_model(system: SystemPlan, model: ResolvedModel, adapter_dirs: dict[str, Path], dtype: str) -> tuple[Any, Any]:
    """The system's model (eval mode) and tokenizer, composed by the trainers' ``build_system_model``."""
    from harness.training.compose import build_system_model

    return build_system_model(system, model, adapter_dirs, dtype)


def wrap(
    model_obj: Any,
    tokenizer: Any,
    batch_size: int,
    max_gen_toks: int | None = None,
    max_length: int | None = None,
) -> HarnessLM:
    """An lm-eval LM around an already built model object."""
    kwargs: dict[str, Any] = {"pretrained": model_obj, "tokenizer": tokenizer, "batch_size": batch_size}
    if max_gen_toks:
        kwargs["max_gen_toks"] = max_gen_toks
    if max_length:
        kwargs["max_length"] = max_length
    return HarnessLM(**kwargs)
