"""Data sources for PDF files, Markdown files and the MDPI folder-per-law layout (JSON/TXT/PDF)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from harness.components import DataSource, Document, Options
from harness.errors import DataError
from harness_plugins.corpus.reading import (
    FileSourceOptions,
    check_path,
    decode,
    fail_or_skip,
    law_files,
    read_manifest,
    resolve,
    select,
    unique_id,
)
from harness_plugins.corpus.sources import law_document

if TYPE_CHECKING:
    from harness.context import StageContext


def pdf_text(path: Path) -> str:
    """Text of a PDF through pypdf, pages separated by a line break (as pdftotext -nopgbrk)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


class _FileSource(DataSource):
    """A folder (or one file) of laws of one format; subclasses say how to read a file."""

    Options = FileSourceOptions
    suffixes: tuple[str, ...] = ()

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """The data path must exist."""
        return check_path(self.options, base_dir)

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield one document per readable file; bad files are skipped (or fail) with the reason."""
        o = self.options
        root = resolve(o.path, ctx.base_dir)
        if not root.exists():
            raise DataError(f"missing data path {str(root)!r}", field="path")
        base = root if root.is_dir() else root.parent
        rows = {Path(r["file"]).name: r for r in read_manifest(base)}
        regular, others = law_files(root, self.suffixes) if root.is_dir() else ([root], [])
        for path in others:
            fail_or_skip(ctx, o.on_error, str(path.relative_to(base)), "not a regular file", str(path))
        paths = {str(p): p for p in regular}
        used: set[str] = set()
        for key in select(list(paths), o.include, o.limit, ctx, o.on_error):
            path = paths[key]
            name = str(path.relative_to(base))
            try:
                text, extra = self.read(path, ctx)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is reported with its reason
                fail_or_skip(ctx, o.on_error, name, f"{type(exc).__name__}: {exc}", str(path))
                continue
            if not text.strip():
                fail_or_skip(ctx, o.on_error, name, "no text", str(path))
                continue
            law_id = unique_id(path.stem, path.relative_to(base), used)
            ctx.report_input(name, "loaded", file=str(path), document=law_id)
            yield law_document(path.name, text, rows.get(path.name, {}), {**extra, "input": name}, law_id)

    def read(self, path: Path, ctx: StageContext) -> tuple[str, dict[str, Any]]:
        """Text of one file and metadata to keep."""
        raise NotImplementedError


class Pdf(_FileSource):
    """PDF laws through pypdf, fed to the same cleaners as pdftotext output."""

    suffixes = (".pdf",)
    description = "folder of PDF laws (pypdf)"

    def read(self, path: Path, ctx: StageContext) -> tuple[str, dict[str, Any]]:
        """Extracted text."""
        return pdf_text(path), {"format": "pdf"}


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


class Markdown(_FileSource):
    """Markdown laws: ``#`` headings for Título/Capítulo/Artículo become plain heading lines."""

    suffixes = (".md", ".markdown")
    description = "folder of Markdown laws (headings for Título/Capítulo/Artículo)"

    def read(self, path: Path, ctx: StageContext) -> tuple[str, dict[str, Any]]:
        """Text with heading marks, emphasis and list bullets removed; the first ``#`` is the title."""
        text, encoding = decode(path.read_bytes(), str(path), ctx)
        lines, title = [], ""
        for line in text.split("\n"):
            m = _MD_HEADING.match(line)
            if m:
                heading = m.group(2).replace("**", "").replace("__", "")
                if len(m.group(1)) == 1 and not title:
                    title = heading
                    continue
                lines += ["", heading]
                continue
            lines.append(re.sub(r"^\s*[-*+]\s+", "", line).replace("**", "").replace("__", ""))
        body = "\n".join(lines).strip("\n")
        return (f"{title}\n{body}" if title else body), {"format": "markdown", "encoding": encoding}


class JsonKeys(Options):
    """Where a hierarchical JSON law keeps its parts (third-party layouts differ)."""

    title: str = "title"
    children: str = "children"
    level: str = "type"
    heading: str = "name"
    text: str = "text"


class FolderOptions(FileSourceOptions):
    json_keys: JsonKeys = Field(default_factory=JsonKeys)
    #: formats tried in order for each law folder
    prefer: list[str] = Field(default_factory=lambda: ["json", "txt", "pdf"])


class LawFolders(DataSource):
    """One folder per law holding PDF, JSON and/or TXT (the MDPI corpus layout); JSON preferred."""

    Options = FolderOptions
    description = "folder per law with JSON/TXT/PDF (MDPI layout), JSON through a key mapping"

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """The data path must exist."""
        return check_path(self.options, base_dir)

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield one document per law folder, from the first format that reads."""
        o = self.options
        root = resolve(o.path, ctx.base_dir)
        if not root.is_dir():
            raise DataError(f"missing data path {str(root)!r}", field="path")
        folders = {p.name: p for p in sorted(root.iterdir()) if p.is_dir()}
        for name in select(list(folders), o.include, o.limit, ctx, o.on_error):
            folder = folders[name]
            reasons: list[str] = []
            doc = None
            for fmt in o.prefer:
                for path in sorted(folder.glob(f"*.{fmt}")):
                    try:
                        doc = self._read(fmt, path, name, ctx)
                    except Exception as exc:  # noqa: BLE001 - try the next file/format, keep the reason
                        reasons.append(f"{path.name}: {type(exc).__name__}: {exc}")
                        continue
                    if doc is not None:
                        break
                    reasons.append(f"{path.name}: no text")
                if doc is not None:
                    break
            if doc is None:
                fail_or_skip(ctx, o.on_error, name, "; ".join(reasons) or "no JSON, TXT or PDF file", str(folder))
                continue
            ctx.report_input(name, "loaded", file=doc.metadata["file"], format=doc.metadata["format"], problems=reasons)
            yield doc

    def _read(self, fmt: str, path: Path, law_id: str, ctx: StageContext) -> Document | None:
        if fmt == "json":
            data = json.loads(decode(path.read_bytes(), str(path), ctx)[0])
            title, text = json_law_text(data, self.options.json_keys)
        elif fmt == "txt":
            title, text = "", decode(path.read_bytes(), str(path), ctx)[0]
        else:
            title, text = "", pdf_text(path)
        if not text.strip():
            return None
        doc = law_document(path.name, text, {"title": title}, {"format": fmt})
        doc.id = law_id
        return doc


def json_law_text(data: Any, keys: JsonKeys) -> tuple[str, str]:
    """(title, text) of a hierarchical JSON law, rendered as heading lines and article paragraphs."""
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        heading = str(node.get(keys.heading) or "").strip()
        text = str(node.get(keys.text) or "").strip()
        if heading and text and re.match(r"(?i)art", heading):
            lines.append(f"{heading.rstrip('.-')}.- {text}")
        else:
            lines.extend(part for part in (heading, text) if part)
        walk(node.get(keys.children))

    walk(data.get(keys.children))
    return str(data.get(keys.title) or "").strip(), "\n".join(lines)
