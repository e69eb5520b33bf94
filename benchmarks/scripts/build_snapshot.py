"""Rebuild the packaged corpus snapshot ``plugins/corpus/data/mx_laws_2021.parquet`` deterministically.

Usage: ``python benchmarks/scripts/build_snapshot.py [RAW_FOLDER]`` (default ``../shared/data/mx_laws_raw``).
Every raw text is stored byte for byte (checked against the manifest's SHA-256) in a Parquet file
compressed with zstd; the manifest columns are kept and SOURCE.md goes into the file's metadata and
beside it as ``SOURCE.md``.  Same input → same bytes out (no timestamps are written).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "plugins" / "corpus" / "data"
COLUMNS = ("file", "title", "category", "header_dof", "sha256", "git_blob_sha1", "source_pdf_url")


def build(raw: Path, out: Path = OUT) -> Path:
    """Write the snapshot from ``raw`` (manifest.csv + federales/txt + SOURCE.md); return its path."""
    with (raw / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, list[str]] = {name: [] for name in (*COLUMNS, "text")}
    for row in rows:
        data = (raw / row["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise SystemExit(f"{row['file']}: SHA-256 differs from manifest.csv")
        for name in COLUMNS:
            columns[name].append(row[name])
        columns["text"].append(data.decode("utf-8"))
    source_md = (raw / "SOURCE.md").read_text(encoding="utf-8")
    meta = {
        "source": "renich/LeyesMexicanas@a220f0d3 (Cámara de Diputados, LeyesBiblio)",
        "date": "2021-10-14",
        "laws": len(rows),
    }
    table = pa.table(columns).replace_schema_metadata(
        {"harness_snapshot": json.dumps(meta, sort_keys=True), "source_md": source_md}
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "mx_laws_2021.parquet"
    pq.write_table(
        table,
        target,
        compression="zstd",
        compression_level=19,
        row_group_size=len(rows),
        use_dictionary=False,
        write_statistics=False,
        data_page_size=1 << 24,
    )
    (out / "SOURCE.md").write_text(source_md, encoding="utf-8")
    return target


def main() -> None:
    """Build and print the file's size and hash."""
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "mx_laws_raw"
    target = build(raw)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {target.stat().st_size / 1e6:.2f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
