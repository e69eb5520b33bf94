"""DAPT blocks: the split's JSONL texts tokenized with the base model's tokenizer and packed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.corpus.io import read_jsonl_texts
from harness.errors import DataError

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.context import StageContext
    from harness.spec.corpus import BlocksSection

BATCH = 256


def pack(
    documents: list[list[int]], eos: int, block_size: int, pad: int, limit: int | None
) -> tuple[list[list[int]], dict[str, int]]:
    """Concatenate documents with EOS between them and cut fixed-length blocks.

    The tail shorter than a block is dropped, except when it would leave no block at all; then it is
    padded (and the padding counted), so padding waste stays at zero on any real corpus.
    """
    stream: list[int] = []
    for ids in documents:
        stream.extend(ids)
        stream.append(eos)
        if limit is not None and len(stream) >= limit * block_size:
            break
    full = len(stream) // block_size
    if limit is not None:
        full = min(full, limit)
    blocks = [stream[i * block_size : (i + 1) * block_size] for i in range(full)]
    padded = 0
    tail = len(stream) - full * block_size
    if not blocks and stream:
        padded = block_size - len(stream)
        blocks = [stream + [pad] * padded]
        tail = 0
    return blocks, {"tokens": len(stream), "blocks": len(blocks), "padding_tokens": padded, "dropped_tail_tokens": tail}


def _write_blocks(path: Path, blocks: list[list[int]], pad_from: int | None) -> None:
    masks = [[1] * len(b) for b in blocks]
    if pad_from is not None and blocks:
        masks[0] = [1] * pad_from + [0] * (len(blocks[0]) - pad_from)
    table = pa.table(
        {
            "input_ids": pa.array(blocks, type=pa.list_(pa.int32())),
            "attention_mask": pa.array(masks, type=pa.list_(pa.int8())),
        }
    )
    pq.write_table(table, path, compression="zstd", compression_level=3)


def run_blocks(ctx: StageContext, split_dir: Path, options: BlocksSection, model: ResolvedModel) -> dict[str, Any]:
    """Tokenize and pack train and validation texts; write the block files and ``blocks.json``."""
    from transformers import AutoTokenizer

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model.path))
    # documents are packed, never fed whole: no "longer than the maximum sequence length" warnings
    tokenizer.model_max_length = 1 << 40
    eos = tokenizer.eos_token_id
    if eos is None:
        raise DataError(
            f"the tokenizer of {model.reference!r} has no EOS token to separate documents", field="model.id"
        )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    record: dict[str, Any] = {"block_size": options.block_size, "tokenizer": model.reference, "eos_token_id": eos}
    for split, limit in (("train", options.max_train_blocks), ("validation", options.max_validation_blocks)):
        texts = read_jsonl_texts(split_dir / f"dapt_{split}.jsonl")
        ids: list[list[int]] = []
        budget = None if limit is None else limit * options.block_size
        count = 0
        for i in ctx.track(range(0, len(texts), BATCH), f"tokenize {split}", total=(len(texts) + BATCH - 1) // BATCH):
            batch = tokenizer(texts[i : i + BATCH], add_special_tokens=False)["input_ids"]
            ids.extend(batch)
            count += sum(len(x) + 1 for x in batch)
            if budget is not None and count >= budget:
                break
        blocks, stats = pack(ids, eos, options.block_size, pad, limit)
        pad_from = options.block_size - stats["padding_tokens"] if stats["padding_tokens"] else None
        _write_blocks(ctx.workdir / f"{split}_blocks.parquet", blocks, pad_from)
        total = stats["blocks"] * options.block_size
        stats["padding_waste"] = round(stats["padding_tokens"] / total, 4) if total else 0.0
        stats["documents"] = len(ids)
        record[split] = stats
    record["seconds"] = round(time.perf_counter() - start, 2)
    from harness.paths import write_json

    write_json(ctx.workdir / "blocks.json", record)
    write_token_reports(split_dir, ctx.workdir, record)
    return record


def write_token_reports(split_dir: Path, workdir: Path, record: dict[str, Any]) -> None:
    """The split's corpus report with a section on tokens added (only here is the tokenizer known)."""
    import html

    from harness.paths import write_atomic

    rows = [
        (split, str(r["documents"]), str(r["tokens"]), str(r["blocks"]), f"{100 * r['padding_waste']:.2f}%")
        for split, r in ((k, record[k]) for k in ("train", "validation"))
    ]
    header = ("split", "documents", "tokens (with EOS)", f"blocks of {record['block_size']}", "padding waste")
    title = f"Tokens ({record['tokenizer']} tokenizer)"
    md_path, html_path = split_dir / "corpus_report.md", split_dir / "corpus_report.html"
    if md_path.is_file():
        table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        table += ["| " + " | ".join(row) + " |" for row in rows]
        write_atomic(
            workdir / "corpus_report.md",
            md_path.read_text(encoding="utf-8") + f"\n## {title}\n\n" + "\n".join(table) + "\n",
        )
    if html_path.is_file():
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        section = (
            f"<h2>{html.escape(title)}</h2><table><tr>"
            + "".join(f"<th>{h}</th>" for h in header)
            + f"</tr>{cells}</table>"
        )
        write_atomic(
            workdir / "corpus_report.html",
            html_path.read_text(encoding="utf-8").replace("</body>", section + "</body>"),
        )
