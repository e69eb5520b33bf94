"""Reading law files: encoding detection, titles from the header, the manifest, bad-input policy."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from harness.components import Options
from harness.errors import DataError
from harness_plugins.corpus.patterns import HEADER_CHAMBER

if TYPE_CHECKING:
    from harness.context import StageContext


class FileSourceOptions(Options):
    """Options shared by the file-based sources."""

    path: str
    #: first N laws in manifest (or file-name) order, for smoke runs
    limit: int | None = Field(None, gt=0)
    #: only these file names (or folder names for ``law_folders``)
    include: list[str] | None = None
    on_error: Literal["skip", "fail"] = "skip"


def resolve(path: str, base_dir: Path) -> Path:
    """``path`` as given, relative ones against the spec's folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def check_path(options: FileSourceOptions, base_dir: Path) -> list[tuple[str, str]]:
    """The ``(option, message)`` pair ``harness validate`` prints when the data path is missing."""
    p = resolve(options.path, base_dir)
    return [] if p.exists() else [("path", f"missing data path {str(p)!r}")]


def decode(data: bytes, name: str, ctx: StageContext | None) -> tuple[str, str]:
    """Text and encoding of ``data``: UTF-8 if it decodes, else the detected encoding, with a warning."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        encoding = best.encoding if best is not None else "cp1252"
    except ImportError:  # installed with requests almost everywhere; cp1252 is the likely legacy encoding
        encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "latin-1", data.decode("latin-1")
    if ctx is not None:
        ctx.warn(f"{name}: not UTF-8, decoded as {encoding}")
    return text, encoding


def title_from_text(text: str, fallback: str) -> str:
    """The title lines at the top of a law: lines before the chamber header (or the first line)."""
    lines = [line.strip() for line in text.split("\n")[:12]]
    if HEADER_CHAMBER in lines:
        title = " ".join(line for line in lines[: lines.index(HEADER_CHAMBER)] if line and "DOF" not in line)
        if title:
            return title
    first = next((line for line in lines if line), "")
    return first[:200] or fallback


def category_of(title: str) -> str:
    """First word of the title, lower case, as the manifest's ``category`` ("ley", "código")."""
    word = title.split()[0].lower() if title.split() else "other"
    return word.strip(",.;:") or "other"


def read_manifest(folder: Path) -> list[dict[str, str]]:
    """Rows of ``manifest.csv`` in ``folder`` (empty when there is none)."""
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def select(names: list[str], include: list[str] | None, limit: int | None) -> list[str]:
    """Apply ``include`` (file names or stems) then ``limit`` to an ordered list of paths/names."""
    if include is not None:
        wanted = set(include)
        names = [n for n in names if Path(n).name in wanted or Path(n).stem in wanted]
    return names[:limit] if limit else names


def fail_or_skip(ctx: StageContext, on_error: str, input_id: str, reason: str, file: str) -> None:
    """Record a skipped input, or raise :class:`DataError` naming the file under ``on_error: fail``."""
    if on_error == "fail":
        raise DataError(reason, file=file)
    ctx.report_input(input_id, "skipped", reason, file=file)
    ctx.warn(f"skipped {file}: {reason}")
