"""Log-likelihood of continuations with the LM head run only where a continuation token is scored.

lm-eval's ``HFLM._loglikelihood_tokens`` takes the logits of every position of every sequence in
a batch and a log-softmax over them.  With Gemma-3's 262,144-token vocabulary that is
``batch × length × 262,144`` floats (2.5 GB for 8 open-book prompts of 300 tokens) for the few
continuation positions actually read.  This module computes the same numbers from the last
positions only, through the model's own ``logits_to_keep`` argument, so adapters, soft-capping
and the rest of the model's forward pass are unchanged: the batch is built exactly as lm-eval
builds it (sorted longest first, truncated from the left, right-padded, no attention mask), and
``logits_to_keep`` covers the earliest continuation position of the batch.

Written here rather than taken from lm-eval because lm-eval has no hook for it: its scoring loop
materialises the full logits before slicing them.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

Request = tuple[tuple[str, str] | None, list[int], list[int]]


def supports_kept_logits(model: Any) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` and sees tokens at their own positions
    (prompt-learning adapters prepend virtual tokens, which lm-eval's own path accounts for)."""
    import inspect

    config = getattr(model, "active_peft_config", None)
    if config is not None and getattr(config, "is_prompt_learning", False):
        return False
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def score_batch(
    model: Any,
    chunk: list[Request],
    max_length: int,
    device: torch.device,
    softmax_dtype: torch.dtype | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> list[tuple[float, bool]]:
    """``(sum of log-probabilities, greedy)`` of each request's continuation given its context."""
    inputs, inplens, conts = [], [], []
    for _, context, continuation in chunk:
        tokens = (context + continuation)[-(max_length + 1) :][:-1]
        inputs.append(tokens)
        inplens.append(len(tokens))
        conts.append(continuation)
    width = max(inplens)
    batch = torch.zeros((len(inputs), width), dtype=torch.long, device=device)
    for row, tokens in enumerate(inputs):
        batch[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
    # every continuation lies in the last ``keep`` positions of the padded batch
    first = min(inplen - len(cont) for inplen, cont in zip(inplens, conts))
    keep = width - first
    with (
        torch.no_grad(),
        torch.autocast(device_type=device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None),
    ):
        logits = model(batch, logits_to_keep=keep).logits
    logprobs = F.log_softmax(logits, dim=-1, dtype=softmax_dtype)
    out = []
    for row, (inplen, cont) in enumerate(zip(inplens, conts)):
        start = inplen - len(cont) - first
        rows = logprobs[row, start : start + len(cont)]
        target = torch.tensor(cont, dtype=torch.long, device=rows.device)
        greedy = bool((rows.argmax(dim=-1) == target).all())
        out.append((float(rows.gather(1, target.unsqueeze(1)).sum()), greedy))
    return out
