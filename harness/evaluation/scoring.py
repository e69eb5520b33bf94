"""Log-likelihood of continuations with the LM head run only where a continuation token is scored.

lm-eval's ``HFLM._loglikelihood_tokens`` takes the logits of every position of every sequence in
a batch and a log-softmax over them.  With Gemma-3's 262,144-token vocabulary that is
``batch × length × 262,144`` floats (2.5 GB for 8 open-book prompts of 300 tokens) for the few
continuation positions actually read.  This module computes the same numbers from the last
positions only, through the model's own ``logits_to_keep`` argument, so adapters, soft-capping
and the rest of the model's forward pass are unchanged: the batch is built exactly as lm-eval
builds it (sorted longest first, truncated from the left, right-padded, no attention mask), and
``logits_to_keep`` covers the earliest continuation position of the batch.

Batches are also sized from what they cost: :func:`row_bytes` estimates one sequence's peak
memory (the kept logits and their log-softmax, attention scores, MLP and hidden activations) and
:func:`split_to_fit` cuts lm-eval's batch into pieces that fit :func:`memory_budget`, half of the
memory available to this process (its cgroup limit included) unless the spec sets
``evaluation.memory_limit_mb``.  A piece that still runs out of memory is retried at half the
size, down to one sequence (:func:`score_safely`).

Requests that share their context (the choices of a multiple-choice item) are scored from one
pass over that context (:func:`score_shared_contexts`): a batch of contexts runs once, left-padded
and masked, and its key/value cache is repeated for the choices, which then run only their own
tokens.  For open-book items, whose context is a whole article, that is most of the evaluation's
compute (four choices: about a quarter of the tokens).  The numbers are the full path's: the same positions, the same causal
and sliding-window attention, checked against lm-eval's own loop in ``tests/evaluation``.

Written here rather than taken from lm-eval because lm-eval has no hook for it: its scoring loop
materialises the full logits before slicing them, runs every choice's context again, and its
``auto`` batch size probes the longest request by trial on CUDA only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn.functional as F

from harness.errors import HarnessError

log = logging.getLogger("harness")

T = TypeVar("T")
Request = tuple[tuple[str, str] | None, list[int], list[int]]


class EvaluationOutOfMemory(HarnessError):
    """Even one sequence does not fit in memory (exit 2: the task asks more than the machine has)."""

    exit_code = 2


def _cgroup_free() -> int | None:
    """Bytes left under this process's cgroup v2 memory limit, if it has one."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((root / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None


def memory_budget(limit_mb: int | None = None) -> int:
    """Bytes one scoring batch may use: ``limit_mb`` when given, else half of what is available."""
    if limit_mb:
        return int(limit_mb) * 2**20
    import psutil

    free = psutil.virtual_memory().available
    cgroup = _cgroup_free()
    if cgroup is not None:
        free = min(free, cgroup)
    return max(free // 2, 64 * 2**20)


def row_bytes(config: Any, width: int, keep: int, element: int = 4) -> int:
    """Estimated peak bytes of one sequence of ``width`` tokens with ``keep`` scored positions."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    vocab = int(getattr(text, "vocab_size", 32000))
    hidden = int(getattr(text, "hidden_size", 1024))
    inner = int(getattr(text, "intermediate_size", None) or 4 * hidden)
    heads = int(getattr(text, "num_attention_heads", 8))
    logits = 3 * keep * vocab * 4  # logits, soft-capped copy, float32 log-softmax
    attention = 2 * heads * width * width * element  # scores and probabilities of one layer
    activations = width * (12 * hidden + 3 * inner) * element
    return logits + attention + activations


def _pack(items: list[T], fits: Callable[[list[T]], bool]) -> list[list[T]]:
    """``items`` in order, cut into consecutive pieces that each ``fits`` (a single item always does)."""
    pieces: list[list[T]] = []
    current: list[T] = []
    for item in items:
        if current and not fits([*current, item]):
            pieces.append(current)
            current = []
        current.append(item)
    if current:
        pieces.append(current)
    return pieces


def split_to_fit(chunk: list[Request], config: Any, max_length: int, budget: int) -> list[list[Request]]:
    """``chunk`` (sorted longest first, as lm-eval sorts it) cut into pieces within ``budget``."""

    def fits(piece: list[Request]) -> bool:
        width, keep = _shape(piece, max_length)
        return len(piece) * row_bytes(config, width, keep) <= budget

    return _pack(chunk, fits)


def _shape(chunk: list[Request], max_length: int) -> tuple[int, int]:
    lengths = [(len((c + t)[-(max_length + 1) :][:-1]), len(t)) for _, c, t in chunk]
    width = max(n for n, _ in lengths)
    return width, width - min(n - k for n, k in lengths)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's ``OutOfMemoryError`` or the CPU allocator's failure to allocate."""
    if isinstance(exc, torch.OutOfMemoryError) or isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def score_safely(
    score: Callable[[list[Request]], list[tuple[float, bool]]], chunk: list[Request], max_length: int
) -> list[tuple[float, bool]]:
    """``score(chunk)``, retried in halves whenever it runs out of memory."""
    try:
        return score(chunk)
    except (RuntimeError, MemoryError) as exc:
        if not is_out_of_memory(exc):
            raise
        if len(chunk) == 1:
            width, _ = _shape(chunk, max_length)
            raise EvaluationOutOfMemory(
                f"scoring one sequence of {width} tokens ran out of memory; lower the model's "
                "max_length or evaluate this task on a machine with more memory",
                field="evaluation.batch_size",
            ) from None
        half = len(chunk) // 2
        log.warning("scoring %d sequences ran out of memory; retrying %d and %d", len(chunk), half, len(chunk) - half)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return score_safely(score, chunk[:half], max_length) + score_safely(score, chunk[half:], max_length)


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


def shares_context(group: list[Request], max_length: int) -> bool:
    """Whether ``group`` (requests with one context) can be scored from one pass over the context:
    more than one request, and none cut from the left by ``max_length``."""
    context = group[0][1]
    return len(group) > 1 and len(context) + max(len(c) for _, _, c in group) <= max_length + 1


def score_shared_contexts(
    model: Any,
    groups: list[list[Request]],
    device: torch.device,
    softmax_dtype: torch.dtype | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> list[list[tuple[float, bool]]]:
    """:func:`score_batch`'s numbers for ``groups`` of requests that each share one context.

    The contexts run once, left-padded to one width with their padding masked and their
    positions counted from each one's first token, keeping the key/value cache and the last
    position's logits (which predict every continuation's first token).  Each continuation then
    runs only its own tokens (right-padded) on its context's rows of that cache.
    """
    contexts = [g[0][1] for g in groups]
    width = max(len(c) for c in contexts)
    ids = torch.zeros((len(groups), width), dtype=torch.long, device=device)
    mask = torch.zeros((len(groups), width), dtype=torch.long, device=device)
    for row, context in enumerate(contexts):
        ids[row, width - len(context) :] = torch.tensor(context, dtype=torch.long)
        mask[row, width - len(context) :] = 1
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    owner = [g for g, group in enumerate(groups) for _ in group]
    conts = [c for group in groups for _, _, c in group]
    span = max(len(c) for c in conts) - 1
    autocast = torch.autocast(device_type=device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None)
    with torch.no_grad(), autocast:
        out = model(ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
        first = F.log_softmax(out.logits[:, -1], dim=-1, dtype=softmax_dtype)
        rest = None
        if span > 0:
            index = torch.tensor(owner, dtype=torch.long, device=device)
            cache = out.past_key_values
            cache.batch_select_indices(index)
            batch = torch.zeros((len(conts), span), dtype=torch.long, device=device)
            for row, cont in enumerate(conts):
                batch[row, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
            lengths = mask.sum(dim=1)[index]
            steps = lengths.unsqueeze(1) + torch.arange(span, device=device).unsqueeze(0)
            full = torch.cat([mask[index], torch.ones_like(batch)], dim=1)
            logits = model(batch, attention_mask=full, position_ids=steps, past_key_values=cache, use_cache=True).logits
            rest = F.log_softmax(logits, dim=-1, dtype=softmax_dtype)
    answers: list[list[tuple[float, bool]]] = [[] for _ in groups]
    for row, (g, cont) in enumerate(zip(owner, conts)):
        target = torch.tensor(cont, dtype=torch.long, device=first.device)
        scores = first[g].unsqueeze(0)
        if len(cont) > 1:
            scores = torch.cat([scores, rest[row, : len(cont) - 1]], dim=0)
        greedy = bool((scores.argmax(dim=-1) == target).all())
        answers[g].append((float(scores.gather(1, target.unsqueeze(1)).sum()), greedy))
    return answers


def shared_pieces(groups: list[list[Request]], config: Any, rows: int, budget: int) -> list[list[list[Request]]]:
    """``groups`` (sorted longest context first) cut into pieces of at most ``rows`` contexts whose
    continuation pass fits ``budget``."""

    def fits(piece: list[list[Request]]) -> bool:
        width = max(len(g[0][1]) for g in piece)
        span = max(len(c) for g in piece for _, _, c in g)
        count = sum(len(g) for g in piece)
        return len(piece) <= rows and count * row_bytes(config, width + span, span) <= budget

    return _pack(groups, fits)
