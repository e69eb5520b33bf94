"""Fixtures for the instruction-generation tests: real articles, a split folder, a registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.components import Article
from harness.context import StageContext
from harness.progress import Progress

from .quick_articles import corpus_articles

#: five laws of different categories, so "which law" questions have distractors
FIXTURE_FILES = [
    "federales/txt/1_280521.txt",
    "federales/txt/125_310721.txt",
    "federales/txt/2_110121.txt",
    "federales/txt/9_010621.txt",
    "federales/txt/LAmp_070621.txt",
    "federales/txt/8_310721.txt",
    "federales/txt/CNPP_190221.txt",
]


@pytest.fixture(scope="session")
def instr_registry():
    """A registry of the built-in instruction generators and model sources only."""
    import pluggy

    import harness_plugins.instructions
    import harness_plugins.models
    from harness import hookspecs
    from harness.plugins import build_registry

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(harness_plugins.instructions, name="harness_plugins.instructions")
    pm.register(harness_plugins.models, name="harness_plugins.models")
    pm.harness_origins = {  # type: ignore[attr-defined]
        "harness_plugins.instructions": ("builtin", "harness"),
        "harness_plugins.models": ("builtin", "harness"),
    }
    return build_registry(pm)


@pytest.fixture(scope="session")
def law_articles(raw_corpus: Path) -> list[Article]:
    """About 280 real articles: the first 40 of seven laws."""
    return corpus_articles(raw_corpus, FIXTURE_FILES, limit=40)


@pytest.fixture(scope="session")
def split_dir(law_articles: list[Article], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus ``split`` output folder holding ``train.parquet``."""
    from harness.instructions.articles import write_articles

    folder = tmp_path_factory.mktemp("split")
    write_articles(folder / "train.parquet", law_articles)
    return folder


def make_ctx(tmp_path: Path, seed: int = 0) -> StageContext:
    """A stage context writing into ``tmp_path/out``."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    return StageContext(
        stage="instructions",
        workdir=out,
        scratch=tmp_path / "scratch",
        base_dir=tmp_path,
        seed=seed,
        progress=Progress(enabled=False),
    )


def make_loaded(tmp_path: Path, instructions: dict[str, Any], seed: int = 0):
    """A validated spec with the given ``instructions`` section (other sections minimal)."""
    from harness.spec.load import LoadedSpec
    from harness.spec.model import Spec

    raw = {
        "name": "t",
        "seed": seed,
        "model": {"id": "tiny-llama", "sources": ["tiny"]},
        "corpus": {"sources": ["snapshot"]},
        "instructions": instructions,
        "evaluation": {"tasks": ["mx_legal"]},
    }
    return LoadedSpec(Spec.model_validate(raw), tmp_path / "spec.yaml", "cpu", "test", raw)


def split_stage():
    """A stand-in for the corpus ``split`` stage (the instructions stage only needs its key)."""
    from harness.runner.stage import Stage

    stage = Stage(name="split", kind="split", config={}, execute=lambda ctx, inputs: {})
    stage.compute_key()
    return stage
