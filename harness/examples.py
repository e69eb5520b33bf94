"""The example specs shipped with the package (``harness init`` writes them out).

A wheel carries them as ``harness/examples/*.yaml`` (copied from ``benchmarks/`` at build time,
see ``setup.py``); an editable or source checkout reads ``benchmarks/`` beside the package.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError, SpecError
from harness.paths import write_atomic

#: what ``harness init`` writes: the smoke spec (minutes, tiny model) and the default benchmark
STARTERS = ("smoke.yaml", "mx_legal.yaml")


def examples_dir() -> Path:
    """The folder holding the example specs (packaged copy first, then the source checkout)."""
    here = Path(__file__).resolve().parent
    for folder in (here / "examples", here.parent / "benchmarks"):
        if (folder / STARTERS[0]).is_file():
            return folder
    raise DataError("the example specs are missing from this installation (harness/examples/*.yaml)")


def init_specs(target: Path, force: bool = False) -> list[Path]:
    """Copy the starter specs into ``target``; refuse to overwrite unless ``force`` (nothing written then)."""
    source = examples_dir()
    paths = [target / name for name in STARTERS]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise SpecError(f"{existing[0]} exists; pass --force to overwrite", field="init")
    if target.exists() and not target.is_dir():
        raise SpecError(f"{target} is not a folder", field="init")
    for name, path in zip(STARTERS, paths):
        write_atomic(path, (source / name).read_text(encoding="utf-8"))
    return paths
