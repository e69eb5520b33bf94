"""Data sources for plain-text laws: a pdftotext TXT folder and the packaged 2021 snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from harness.components import DataSource, Document, Options
from harness_plugins.corpus.reading import (
    FileSourceOptions,
    category_of,
    check_path,
    decode,
    fail_or_skip,
    read_manifest,
    resolve,
    select,
    title_from_text,
)

if TYPE_CHECKING:
    from harness.context import StageContext

SNAPSHOT = Path(__file__).resolve().parent / "data" / "mx_laws_2021.parquet"


def law_document(file_name: str, text: str, row: dict[str, str], extra: dict[str, object]) -> Document:
    """A :class:`Document` for one law text, titled from the manifest row or the text's header."""
    stem = Path(file_name).stem
    title = " ".join((row.get("title") or "").split()) or title_from_text(text, stem)
    category = row.get("category") or category_of(title)
    metadata = {"file": file_name, "last_reform": row.get("header_dof", ""), **extra}
    if row.get("sha256"):
        metadata["sha256"] = row["sha256"]
    return Document(id=stem, title=title, category=category, text=text, metadata=metadata)


class RawTxt(DataSource):
    """A folder of pdftotext files, one per law; titles from ``manifest.csv`` when present."""

    Options = FileSourceOptions
    description = "folder of raw TXT laws (pdftotext output), optional manifest.csv"

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """The data path must exist."""
        return check_path(self.options, base_dir)

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield each law in manifest order (else sorted file order)."""
        o = self.options
        folder = resolve(o.path, ctx.base_dir)
        if not folder.exists():
            fail_or_skip(ctx, "fail", str(folder), f"missing data path {str(folder)!r}", str(folder))
        rows = read_manifest(folder) if folder.is_dir() else []
        by_file = {row["file"]: row for row in rows}
        if rows:
            files = [row["file"] for row in rows]
        elif folder.is_dir():
            files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.txt"))
        else:
            folder, files = folder.parent, [folder.name]
        for name in select(files, o.include, o.limit):
            path = folder / name
            stem = Path(name).stem
            try:
                data = path.read_bytes()
            except OSError as exc:
                fail_or_skip(ctx, o.on_error, stem, f"cannot read: {exc.strerror or exc}", str(path))
                continue
            if not data.strip():
                fail_or_skip(ctx, o.on_error, stem, "empty file", str(path))
                continue
            text, encoding = decode(data, str(path), ctx)
            ctx.report_input(stem, "loaded", file=str(path), encoding=encoding)
            yield law_document(Path(name).name, text, by_file.get(name, {}), {"encoding": encoding})


class SnapshotOptions(Options):
    """The packaged corpus needs no path."""

    limit: int | None = Field(None, gt=0)
    include: list[str] | None = None
    on_error: Literal["skip", "fail"] = "skip"


class Snapshot(DataSource):
    """The packaged 2021 corpus (313 laws of 14 Oct 2021 with manifest and SOURCE notes), offline."""

    Options = SnapshotOptions
    description = "packaged snapshot of the 313 federal laws in force on 14 Oct 2021"

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """The packaged file must be installed."""
        return [] if SNAPSHOT.is_file() else [("name", f"packaged snapshot missing: {SNAPSHOT}")]

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield the packaged laws in manifest order."""
        import pyarrow.parquet as pq

        o = self.options
        table = pq.read_table(SNAPSHOT)
        names = table.column("file").to_pylist()
        wanted = set(select([Path(n).name for n in names], o.include, o.limit))
        meta = json.loads(table.schema.metadata[b"harness_snapshot"])
        for row in table.to_pylist():
            name = Path(row["file"]).name
            if name not in wanted:
                continue
            text = row.pop("text")
            ctx.report_input(Path(name).stem, "loaded", file=f"snapshot:{row['file']}")
            extra = {"encoding": "utf-8", "source": meta.get("source", ""), "snapshot": meta.get("date", "")}
            yield law_document(name, text, row, extra)


def snapshot_source_notes() -> str:
    """The SOURCE.md notes (provenance, licence) packaged with the snapshot."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(SNAPSHOT).metadata
    return meta[b"source_md"].decode("utf-8")
