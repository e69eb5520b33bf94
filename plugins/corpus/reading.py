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


#: the legacy encodings of Spanish text, in order: Windows-1252 (a superset of Latin-1 in the
#: printable range, with € and curly quotes), then Latin-1, which decodes any byte
LEGACY_ENCODINGS = ("cp1252", "latin-1")


def decode(data: bytes, name: str, ctx: StageContext | None) -> tuple[str, str]:
    """Text and encoding of ``data``: UTF-8 if it decodes, else cp1252, else Latin-1, with a warning.

    No statistical charset detection: it takes short Spanish texts for Central-European code pages
    (cp1250 reads ``ñ`` as ``ń``), and every Mexican legal text that is not UTF-8 is one of these two.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if ctx is not None:
            ctx.warn(f"{name}: not UTF-8, decoded as {encoding}")
        return text, encoding
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


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


def select(
    names: list[str],
    include: list[str] | None,
    limit: int | None,
    ctx: StageContext | None = None,
    on_error: str = "skip",
) -> list[str]:
    """Apply ``include`` (file names or stems) then ``limit`` to an ordered list of paths/names.

    An ``include`` entry that matches nothing (a typo drops a law) is an error under
    ``on_error: fail`` and a warning otherwise."""
    if include is not None:
        wanted = set(include)
        kept = [n for n in names if Path(n).name in wanted or Path(n).stem in wanted]
        found = {Path(n).name for n in kept} | {Path(n).stem for n in kept}
        missing = [w for w in include if w not in found]
        if missing:
            message = f"include names {', '.join(map(repr, missing))}, which match no input"
            if on_error == "fail":
                raise DataError(message, field="include")
            if ctx is not None:
                ctx.warn(message)
        names = kept
    return names[:limit] if limit else names


def law_files(folder: Path, suffixes: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    """Files under ``folder`` whose suffix is one of ``suffixes`` in any case (``LEY.TXT``), sorted:
    the regular files, and the other entries (FIFOs, sockets, devices), which must not be read."""
    regular, other = [], []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in suffixes or path.is_dir():
            continue
        (regular if path.is_file() else other).append(path)
    return regular, other


def unique_id(stem: str, relative: Path, used: set[str]) -> str:
    """The law id of a file: its stem, or, when another file already has that stem (the same name in
    two subfolders), its folder path joined with ``__`` (``a__dup``), made unique with a counter."""
    candidate = stem if stem not in used else "__".join((*relative.parent.parts, stem))
    base, n = candidate, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def fail_or_skip(ctx: StageContext, on_error: str, input_id: str, reason: str, file: str) -> None:
    """Record a skipped input, or raise :class:`DataError` naming the file under ``on_error: fail``."""
    if on_error == "fail":
        raise DataError(reason, file=file)
    ctx.report_input(input_id, "skipped", reason, file=file)
    ctx.warn(f"skipped {file}: {reason}")
