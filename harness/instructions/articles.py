"""Reading the corpus split's articles into :class:`~harness.components.Article` objects."""

from __future__ import annotations

from pathlib import Path

from harness.components import Article
from harness.errors import DataError

COLUMNS = (
    "law_id",
    "law_title",
    "category",
    "part",
    "label",
    "number",
    "path",
    "text",
    "reform_notes",
    "derogated",
)


def read_articles(path: Path) -> list[Article]:
    """Articles of a Parquet file with the columns of ``Article.to_row()``."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataError(f"articles file not found: {path}")
    table = pq.read_table(path)
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise DataError(f"missing columns {', '.join(missing)}", file=str(path))
    articles = []
    for row in table.select(list(COLUMNS)).to_pylist():
        row["path"] = list(row["path"] or [])
        row["reform_notes"] = list(row["reform_notes"] or [])
        row["number"] = int(row["number"] or 0)
        row["derogated"] = bool(row["derogated"])
        articles.append(Article(**row))
    return articles


def write_articles(path: Path, articles: list[Article]) -> None:
    """Write articles as Parquet (used by tests and the benchmark script)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([a.to_row() for a in articles]), path)
