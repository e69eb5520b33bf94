"""Training data for the two trainers: packed DAPT blocks and SFT prompt/completion pairs.

SFT template: with the tokenizer's chat template when it has one (the instruction, plus the
article context after a blank line, as the user turn; the response as the assistant turn).
Without one, the documented plain template below; the loss is on the response only either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import DataError

#: Plain template for tokenizers without a chat template; ``{context_block}`` is empty or
#: ``"### Contexto:\n<context>\n\n"``.  The response follows the prompt and ends with EOS.
PLAIN_PROMPT = "### Instrucción:\n{instruction}\n\n{context_block}### Respuesta:\n"


def load_blocks(path: Path) -> Any:
    """A ``datasets.Dataset`` of fixed-length blocks with ``labels`` equal to ``input_ids``."""
    import datasets
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataError(f"DAPT blocks not found: {path}", file=str(path))
    ids = pq.read_table(path, columns=["input_ids"]).column("input_ids").to_pylist()
    if not ids:
        raise DataError(f"no DAPT blocks in {path}", file=str(path))
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": ids})


def read_instructions(path: Path) -> list[dict[str, Any]]:
    """Rows of ``instructions.jsonl``; each needs ``instruction`` and ``response``."""
    if not path.is_file():
        raise DataError(f"instructions not found: {path}", file=str(path))
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not row.get("instruction") or not row.get("response"):
            raise DataError(f"line {number}: needs 'instruction' and 'response'", file=str(path), line=number)
        rows.append(row)
    if not rows:
        raise DataError(f"no instructions in {path}", file=str(path))
    return rows


def has_chat_template(tokenizer: Any) -> bool:
    """Whether the tokenizer carries a chat template (SFT then formats examples with it)."""
    return bool(getattr(tokenizer, "chat_template", None))


def sft_example(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """One prompt/completion example for TRL (conversational when ``chat``)."""
    instruction, context = row["instruction"].strip(), (row.get("context") or "").strip()
    if chat:
        user = f"{instruction}\n\n{context}" if context else instruction
        return {
            "prompt": [{"role": "user", "content": user}],
            "completion": [{"role": "assistant", "content": row["response"].strip()}],
        }
    block = f"### Contexto:\n{context}\n\n" if context else ""
    return {
        "prompt": PLAIN_PROMPT.format(instruction=instruction, context_block=block),
        "completion": row["response"].strip(),
    }


def sft_dataset(path: Path, tokenizer: Any, eval_fraction: float, seed: int) -> tuple[Any, Any, bool]:
    """Train and (optional) validation datasets of prompt/completion pairs, and whether chat was used."""
    import datasets

    chat = has_chat_template(tokenizer)
    examples = [sft_example(row, chat) for row in read_instructions(path)]
    dataset = datasets.Dataset.from_list(examples)
    held = heldout_indices(len(examples), eval_fraction, seed)
    if not held:
        return dataset, None, chat
    train = dataset.select(_shuffled(len(examples), seed)[len(held) :])
    return train, dataset.select(held), chat


def _shuffled(count: int, seed: int) -> list[int]:
    import numpy as np

    return [int(i) for i in np.random.default_rng(seed).permutation(count)]


def heldout_indices(count: int, eval_fraction: float, seed: int) -> list[int]:
    """Rows of the instruction file held out for validation loss (and generation probes): a
    seeded share, at least one row; none when ``eval_fraction`` is 0 or there are under 4 rows.
    The same rows as ``datasets.Dataset.train_test_split(test_size, seed=seed)`` holds out."""
    if eval_fraction <= 0 or count < 4:
        return []
    return _shuffled(count, seed)[: max(1, int(count * eval_fraction))]


def mean_sft_tokens(dataset: Any, tokenizer: Any, chat: bool, sample: int = 64) -> float:
    """Average tokens per example (for a ``max_tokens`` budget), from a sample of examples."""
    lengths = []
    for example in dataset.select(range(min(sample, len(dataset)))):
        if chat:
            text = tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=False)
        else:
            text = example["prompt"] + example["completion"]
        lengths.append(len(tokenizer(text)["input_ids"]))
    return sum(lengths) / len(lengths)
