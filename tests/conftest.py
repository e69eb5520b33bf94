"""Shared fixtures: a tiny model built on the fly, an isolated cache, the raw law corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


def raw_corpus_path() -> Path | None:
    """The raw pdftotext corpus: ``$HARNESS_RAW_CORPUS`` or ``../shared/data/mx_laws_raw``."""
    env = os.environ.get("HARNESS_RAW_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "mx_laws_raw")
    for path in candidates:
        if (path / "manifest.csv").is_file():
            return path
    return None


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session (tiny models are built once)."""
    path = tmp_path_factory.mktemp("harness-cache")
    os.environ["HARNESS_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(session_cache: Path):
    """The tiny LLaMA as a :class:`~harness.components.ResolvedModel`."""
    from harness_plugins.models.sources import TinyLlama

    return TinyLlama().resolve("tiny-llama")


@pytest.fixture(scope="session")
def raw_corpus() -> Path:
    """Path of the raw corpus folder (``manifest.csv`` + ``federales/txt``); skips if absent."""
    path = raw_corpus_path()
    if path is None:
        pytest.skip("raw corpus not found: set HARNESS_RAW_CORPUS")
    return path


@pytest.fixture(scope="session")
def registry():
    """The registry of built-in plugins (no entry points)."""
    from harness.plugins import load_registry

    return load_registry(load_entrypoints=False)


@pytest.fixture(scope="session")
def reference_corpus(tmp_path_factory: pytest.TempPathFactory, registry):
    """The articles of the reference corpus pipeline on the packaged snapshot (about 1.5 min, once)."""
    from harness.corpus.reference import reference_articles

    articles, _ = reference_articles(tmp_path_factory.mktemp("reference-corpus"), registry)
    return articles
