"""Built-in corpus plugin: law sources, cleaners, the Mexican-law article parser, deduplicators."""

from __future__ import annotations

from harness import hookimpl
from harness_plugins.corpus.cleaners import (
    NumericTables,
    PageFurniture,
    Quality,
    ReformNotes,
    UnicodeRepair,
    UnwrapLines,
)
from harness_plugins.corpus.dedup import ExactDedup, MinHashDedup
from harness_plugins.corpus.file_sources import LawFolders, Markdown, Pdf
from harness_plugins.corpus.sources import RawTxt, Snapshot
from harness_plugins.corpus.structure import MxArticles


@hookimpl
def register_data_sources(register) -> None:
    """Register the built-in law sources."""
    register("raw_txt", RawTxt)
    register("law_folders", LawFolders)
    register("pdf", Pdf)
    register("markdown", Markdown)
    register("snapshot", Snapshot)


@hookimpl
def register_cleaners(register) -> None:
    """Register the built-in cleaners."""
    register("unicode_repair", UnicodeRepair)
    register("page_furniture", PageFurniture)
    register("reform_notes", ReformNotes)
    register("unwrap_lines", UnwrapLines)
    register("numeric_tables", NumericTables)
    register("quality", Quality)


@hookimpl
def register_structurers(register) -> None:
    """Register the Mexican-law article parser."""
    register("mx_articles", MxArticles)


@hookimpl
def register_deduplicators(register) -> None:
    """Register the exact and MinHash deduplicators."""
    register("exact", ExactDedup)
    register("minhash", MinHashDedup)
