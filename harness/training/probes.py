"""Generation probes of an SFT adapter: greedy answers to held-out instructions, per task type.

Scores say *that* a downstream adapter helps or hurts; probes show *what* it learned: whether it
answers in the trained format, copies its context, or repeats itself.  After SFT the trainer
generates, for a few held-out instructions of each task type (the validation share the trainer
never trains on), the greedy response next to the reference, and writes them to
``training/probes.jsonl`` in the adapter folder; the leaderboard shows them per SFT system.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.paths import write_atomic
from harness.training.data import has_chat_template, heldout_indices, read_instructions, sft_example

if TYPE_CHECKING:
    from harness.context import StageContext

log = logging.getLogger("harness")

PROBES_FILE = "probes.jsonl"
#: characters of context kept in a probe prompt and in the file
CONTEXT_CHARS = 800


def pick_probes(path: Path, eval_fraction: float, seed: int, per_type: int) -> list[dict[str, Any]]:
    """The first ``per_type`` held-out rows of each task type (task types in sorted order)."""
    rows = read_instructions(path)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index in sorted(heldout_indices(len(rows), eval_fraction, seed)):
        row = rows[index]
        task = str(row.get("task_type") or "?")
        if len(by_type[task]) < per_type:
            by_type[task].append(row)
    return [row for task in sorted(by_type) for row in by_type[task]]


def _prompt(row: dict[str, Any], tokenizer: Any) -> str:
    """The prompt as the SFT trainer formatted it (:func:`sft_example`), context cut for speed."""
    chat = has_chat_template(tokenizer)
    example = sft_example({**row, "context": (row.get("context") or "").strip()[:CONTEXT_CHARS]}, chat)
    if chat:
        return tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
    return example["prompt"]


def generate_probes(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], max_new_tokens: int, ctx: StageContext | None = None
) -> list[dict[str, Any]]:
    """Greedy responses of ``model`` to ``rows``, generated as one left-padded batch (on two CPU
    cores a decoding step costs about the same for seven prompts as for one)."""
    import torch

    was_training = model.training
    model.eval()
    out = []
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    side, saved_pad = tokenizer.padding_side, tokenizer.pad_token
    try:
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        prompts = [_prompt(row, tokenizer) for row in rows]
        log.info(
            "%sgeneration probes: %d held-out instructions, %d tokens each",
            f"{ctx.stage}: " if ctx else "",
            len(rows),
            max_new_tokens,
        )
        ids = tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            add_special_tokens=not has_chat_template(tokenizer),
            return_token_type_ids=False,  # a causal LM's generate refuses them (transformers 4.x tokenizers add them)
        ).to(device)
        with torch.no_grad():
            tokens = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad)
        width = ids["input_ids"].shape[1]
        for row, generated in zip(rows, tokenizer.batch_decode(tokens[:, width:], skip_special_tokens=True)):
            out.append(
                {
                    "task_type": row.get("task_type", ""),
                    "template": row.get("template_or_model", ""),
                    "law_id": row.get("law_id", ""),
                    "article_label": row.get("article_label", ""),
                    "instruction": row["instruction"],
                    "context": (row.get("context") or "")[:CONTEXT_CHARS],
                    "reference": row["response"],
                    "generated": generated.strip(),
                }
            )
    finally:
        tokenizer.padding_side, tokenizer.pad_token = side, saved_pad
        model.train(was_training)
    return out


def write_probes(folder: Path, probes: list[dict[str, Any]]) -> Path:
    """``folder/probes.jsonl``, written atomically."""
    path = folder / PROBES_FILE
    write_atomic(path, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in probes))
    return path


def read_probes(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``probes.jsonl`` (empty when the file is absent)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
