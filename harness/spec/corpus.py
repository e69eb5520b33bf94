"""The ``corpus`` section: sources, ordered cleaners, structure, dedup, splits, DAPT blocks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.spec.common import ComponentRef, Strict


class SplitSection(Strict):
    """Deterministic splits; held-out evaluation articles never reach training."""

    seed: int | None = None  # defaults to the spec's seed
    validation_fraction: float = Field(0.02, ge=0, lt=1)
    #: task folders (under tasks/ or paths) whose held-out article ids are excluded from training
    exclude_heldout_from: list[str] = Field(default_factory=lambda: ["mx_legal"])
    max_train_articles: int | None = Field(None, gt=0)
    #: also drop articles whose text is mostly held-out evaluation text under another id (a near
    #: duplicate the dedup kept, or an id that changed since the task data was built): the share of
    #: their ``heldout_ngram``-grams found in the tasks' frozen items; null turns the check off
    heldout_overlap: float | None = Field(0.5, gt=0, le=1)
    heldout_ngram: int = Field(13, ge=3)
    #: put the DAPT texts of the evaluated legal-QA items' articles (``articles``) or of every
    #: article of their laws (``laws``) first, so that a capped block budget (the CPU profile)
    #: reads them; the rest of the corpus follows in its shuffled order
    dapt_focus: Literal["articles", "laws"] | None = None


class BlocksSection(Strict):
    """Packing of DAPT text into fixed-length token blocks."""

    #: tokens per block; a model's context is at most about a million tokens
    block_size: int = Field(512, gt=8, le=1 << 20)
    max_train_blocks: int | None = Field(None, gt=0)
    max_validation_blocks: int | None = Field(None, gt=0)


class CorpusSection(Strict):
    """Where the laws come from and how they become training text."""

    sources: list[ComponentRef] = Field(min_length=1)
    cleaners: list[ComponentRef] = Field(default_factory=list)
    structurer: ComponentRef = Field(default_factory=lambda: ComponentRef(name="mx_articles"))
    dedup: list[ComponentRef] = Field(default_factory=list)
    #: a cleaner that raises on one document: ``fail`` the run (exit 3, naming the plugin), or
    #: ``skip`` that document with the error in the corpus report
    on_error: Literal["fail", "skip"] = "fail"
    split: SplitSection = Field(default_factory=SplitSection)
    blocks: BlocksSection = Field(default_factory=BlocksSection)
