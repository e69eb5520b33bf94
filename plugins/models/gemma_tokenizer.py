"""Gemma's tokenizer rebuilt from its GGUF file, the same on every transformers line.

A GGUF carries no ``tokenizer.json``: the loader rebuilds the tokenizer from the vocabulary in the
file's metadata.  transformers 5 rebuilds Gemma's as what it is, a byte-fallback BPE whose merges
are recovered from the vocabulary in file order.  transformers 4.x (the line AdapterHub's
``adapters`` 1.3.0 pins, ``~=4.57.6``) builds a Unigram model from the file's scores instead; Gemma's
scores do not rank its pieces, so that tokenizer cuts words into fragments ("Artículo" into
``Art``/``íc``/``ulo``, 39 tokens where the real tokenizer gives 23 for one sentence of law) and
every perplexity measured through it is meaningless (word perplexity in the millions).

This module is that rebuild written out with the ``tokenizers`` library, following transformers
5's ``gemma_tokenizer`` (integrations/gguf): spaces-only tokens respelled with ``▁``, merges from
every split of a token into two vocabulary pieces ranked by the token's position, control tokens
special and user-defined ones added whole.  It exists because no released transformers 4.x has
it; :func:`needs_rebuild` says when the running transformers needs it, and a test checks it gives
the ids transformers 5's own conversion gives.
"""

from __future__ import annotations

import json
import mmap
import re
from pathlib import Path
from typing import Any

#: ``tokenizer.ggml.token_type`` values (llama.cpp): control tokens and user-defined ones
CONTROL, USER_DEFINED = 3, 4


def needs_rebuild() -> bool:
    """True where the running transformers converts Gemma's GGUF tokenizer wrongly (4.x)."""
    from harness.models import transformers_major

    return transformers_major() < 5


#: the model object's type as ``tokenizers`` writes it (``"model": {"type": "BPE", …``)
_MODEL_TYPE = re.compile(rb'"model"\s*:\s*\{\s*"type"\s*:\s*"(\w+)"')


def is_sound(folder: Path) -> bool:
    """A saved Gemma tokenizer is the BPE the model was trained with, not a Unigram rebuilt
    from the file's scores (what transformers 4.x writes).

    Every resolution of the model asks, and parsing Gemma's 33 MB ``tokenizer.json`` takes about
    a second, so the model's type is searched for in the raw file first (tens of milliseconds);
    the file is parsed only when it is not written that way."""
    path = folder / "tokenizer.json"
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = _MODEL_TYPE.search(data)
            kind = found.group(1) if found is not None else None
            del found  # a match holds the mapping open
        if kind is not None:
            return kind == b"BPE"
        model = json.loads(path.read_text(encoding="utf-8")).get("model", {})
    except (OSError, ValueError):
        return False
    return model.get("type") == "BPE"


def _metadata(gguf_path: Path) -> dict[str, Any]:
    """The ``tokenizer.ggml.*`` values of the file (strings decoded, arrays as lists)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))
    out: dict[str, Any] = {}
    for name, field in reader.fields.items():
        if not name.startswith("tokenizer.ggml."):
            continue
        key = name.removeprefix("tokenizer.ggml.")
        if key == "tokens":
            out[key] = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        elif key == "token_type":
            import numpy as np

            out[key] = np.concatenate([field.parts[i] for i in field.data]).tolist()
        elif key in ("scores", "merges"):
            continue  # Gemma's scores do not rank its pieces; a Gemma GGUF lists no merges
        elif len(field.data) == 1 and field.types and field.types[0].name != "STRING":
            out[key] = field.parts[field.data[0]].tolist()[0]
        elif field.types and field.types[0].name == "STRING":
            out[key] = bytes(field.parts[field.data[0]]).decode("utf-8")
    return out


def _merges(tokens: list[str], vocab: dict[str, int]) -> list[tuple[str, str]]:
    """Every split of a token into two vocabulary pieces, best (earliest token) first; among the
    splits of one token, by the pieces' ids (transformers 5's ``generate_merges`` with the
    negated position as score)."""
    found: list[tuple[int, int, int, str, str]] = []
    for position, token in enumerate(tokens):
        local = []
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            if left in vocab and right in vocab:
                local.append((vocab[left], vocab[right], left, right))
        local.sort()
        found.extend((position, len(left), len(right), left, right) for _, _, left, right in local)
    # a stable sort on (score descending = position ascending, then longer pieces first, as the
    # reverse sort over (score, len(left), len(right)) orders them)
    found.sort(key=lambda m: (m[0], -m[1], -m[2]))
    return [(left, right) for _, _, _, left, right in found]


def build(gguf_path: Path) -> Any:
    """A ``GemmaTokenizerFast`` for the GGUF file, for saving next to the dequantized weights."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    meta = _metadata(gguf_path)
    tokens = ["▁" * len(t) if " " in t and not t.strip() else t for t in meta["tokens"]]
    vocab = {token: index for index, token in enumerate(tokens)}

    def named(key: str, default: str) -> str:
        index = meta.get(f"{key}_token_id")
        return tokens[int(index)] if index is not None else default

    unk = named("unknown", "<unk>")
    backend = Tokenizer(
        BPE(vocab=vocab, merges=_merges(tokens, vocab), fuse_unk=True, unk_token=unk, byte_fallback=True)
    )
    backend.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous", invert=False)
    backend.normalizer = normalizers.Replace(" ", "▁")
    backend.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    types = meta.get("token_type") or []
    backend.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t, kind in zip(tokens, types) if kind == CONTROL]
    )
    backend.add_tokens(
        [AddedToken(t, normalized=False, special=False) for t, kind in zip(tokens, types) if kind == USER_DEFINED]
    )
    try:  # transformers 4.x: the Gemma class adds BOS through its post-processor
        from transformers import GemmaTokenizerFast as TokenizerClass
    except ImportError:  # pragma: no cover - transformers 5 has one Gemma class
        TokenizerClass = PreTrainedTokenizerFast
    return TokenizerClass(
        tokenizer_object=backend,
        bos_token=named("bos", "<bos>"),
        eos_token=named("eos", "<eos>"),
        unk_token=unk,
        pad_token=named("padding", "<pad>"),
        add_bos_token=bool(meta.get("add_bos_token", True)),
        add_eos_token=bool(meta.get("add_eos_token", False)),
    )
