"""A tiny LLaMA with a BPE tokenizer trained on Spanish law text, built in seconds on the fly.

Used by the tests and the smoke benchmark: real transformers/peft/lm-eval code paths, no download.
The tokenizer adds a BOS token like LLaMA's, so perplexity code must handle it (lm-eval #3333).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.paths import atomic_dir, cache_dir

SAMPLE = Path(__file__).with_name("tiny_sample.txt")


def tiny_config(vocab_size: int = 1024, hidden_size: int = 64, layers: int = 2, heads: int = 4) -> dict:
    """The architecture of the tiny model, as a dict that also keys its cache folder."""
    return {
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": hidden_size * 2,
        "max_position_embeddings": 1024,
        "format": 2,
    }


def build_tiny_llama(target: Path, config: dict, seed: int = 0) -> Path:
    """Train the tokenizer on :data:`SAMPLE`, build a randomly initialised LLaMA, save both."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    text = SAMPLE.read_text(encoding="utf-8")
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=config["vocab_size"],
        special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.splitlines(), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=config["max_position_embeddings"],
    )
    torch.manual_seed(seed)
    arch = {k: v for k, v in config.items() if k != "format"}
    model = LlamaForCausalLM(
        LlamaConfig(
            **arch,
            bos_token_id=bos,
            eos_token_id=tok.token_to_id("</s>"),
            pad_token_id=tok.token_to_id("<pad>"),
            tie_word_embeddings=False,
        )
    )
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp)
        fast.save_pretrained(tmp)
        (tmp / "harness_tiny.json").write_text(json.dumps({"config": config, "seed": seed}))
    return target


def tiny_llama_path(seed: int = 0, **arch: int) -> Path:
    """Path of the cached tiny model for this architecture and seed, building it if needed."""
    config = tiny_config(**arch)
    digest = hashlib.sha256(json.dumps([config, seed, SAMPLE.stat().st_size], sort_keys=True).encode()).hexdigest()
    target = cache_dir() / "models" / f"tiny-llama-{digest[:12]}"
    if not (target / "harness_tiny.json").exists():
        build_tiny_llama(target, config, seed)
    return target
