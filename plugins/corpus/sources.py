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
    law_files,
    read_manifest,
    resolve,
    select,
    title_from_text,
    unique_id,
)

if TYPE_CHECKING:
    from harness.context import StageContext

SNAPSHOT = Path(__file__).resolve().parent / "data" / "mx_laws_2021.parquet"


def law_document(
    file_name: str, text: str, row: dict[str, str], extra: dict[str, object], law_id: str | None = None
) -> Document:
    """A :class:`Document` for one law text, titled from the manifest row or the text's header."""
    stem = Path(file_name).stem
    title = " ".join((row.get("title") or "").split()) or title_from_text(text, stem)
    category = row.get("category") or category_of(title)
    metadata = {"file": file_name, "last_reform": row.get("header_dof", ""), **extra}
    if row.get("sha256"):
        metadata["sha256"] = row["sha256"]
    return Document(id=law_id or stem, title=title, category=category, text=text, metadata=metadata)


class RawTxt(DataSource):
    """A folder of pdftotext files, one per law; titles from ``manifest.csv`` when present."""

    Options = FileSourceOptions
    description = "folder of raw TXT laws (pdftotext output), optional manifest.csv"

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """The data path must exist."""
        return check_path(self.options, base_dir)

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield each law in manifest order (else every ``*.txt``, any case, in sorted order).

        Every input gets a row in the report, keyed by its path: loaded, or skipped with a reason
        (not listed in the manifest, not a regular file, unreadable, empty); a manifest entry whose
        file is missing is an error under ``on_error: fail``.  Two files with one stem get distinct
        ids."""
        o = self.options
        folder = resolve(o.path, ctx.base_dir)
        if not folder.exists():
            fail_or_skip(ctx, "fail", str(folder), f"missing data path {str(folder)!r}", str(folder))
        if not folder.is_dir():
            folder, files, others = folder.parent, [folder.name], []
            rows: list[dict[str, str]] = []
        else:
            rows = read_manifest(folder)
            regular, other_paths = law_files(folder, (".txt",))
            on_disk = [str(p.relative_to(folder)) for p in regular]
            listed = [row["file"] for row in rows]
            unlisted = [name for name in on_disk if name not in set(listed)] if rows else []
            for name in unlisted:
                # the manifest says which files are laws (the shared corpus has a urls.txt beside them)
                ctx.report_input(name, "skipped", "not listed in manifest.csv", file=str(folder / name))
            if unlisted:
                ctx.warn(f"{len(unlisted)} TXT files are not listed in manifest.csv and were not read: {unlisted[:5]}")
            files = listed or on_disk
            others = [str(p.relative_to(folder)) for p in other_paths]
        by_file = {row["file"]: row for row in rows}
        for name in others:
            fail_or_skip(ctx, o.on_error, name, "not a regular file (a FIFO, socket or device)", str(folder / name))
        used: set[str] = set()
        for name in select(files, o.include, o.limit, ctx, o.on_error):
            path = folder / name
            try:
                if not path.is_file():
                    raise OSError(f"{'not a regular file' if path.exists() else 'no such file'}")
                data = path.read_bytes()
            except OSError as exc:
                fail_or_skip(ctx, o.on_error, name, f"cannot read: {exc.strerror or exc}", str(path))
                continue
            if not data.strip():
                fail_or_skip(ctx, o.on_error, name, "empty file", str(path))
                continue
            text, encoding = decode(data, str(path), ctx)
            law_id = unique_id(Path(name).stem, Path(name), used)
            ctx.report_input(name, "loaded", file=str(path), encoding=encoding, document=law_id)
            extra = {"encoding": encoding, "input": name}
            yield law_document(Path(name).name, text, by_file.get(name, {}), extra, law_id)


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
        wanted = set(select([Path(n).name for n in names], o.include, o.limit, ctx, o.on_error))
        meta = json.loads(table.schema.metadata[b"harness_snapshot"])
        for row in table.to_pylist():
            name = Path(row["file"]).name
            if name not in wanted:
                continue
            text = row.pop("text")
            ctx.report_input(row["file"], "loaded", file=f"snapshot:{row['file']}", document=Path(name).stem)
            extra = {
                "encoding": "utf-8",
                "source": meta.get("source", ""),
                "snapshot": meta.get("date", ""),
                "input": row["file"],
            }
            yield law_document(name, text, row, extra)


def snapshot_source_notes() -> str:
    """The SOURCE.md notes (provenance, licence) packaged with the snapshot."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(SNAPSHOT).metadata
    return meta[b"source_md"].decode("utf-8")
