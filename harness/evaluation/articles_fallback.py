"""A simple article extractor for the raw pdftotext corpus, used to build the frozen task data.

The corpus pipeline (``harness.corpus``) is the real structurer.  This module only exists so the
evaluation data can be built when that pipeline is not available: it drops page furniture and
reform notes, follows TÍTULO/CAPÍTULO headings and cuts the body (never the transitory articles)
at article headings.  Its output is a list of :class:`harness.components.Article`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from harness.components import Article
from harness.errors import DataError

_ARTICLE = re.compile(
    r"^(?:ART[IÍ]CULO|Art[ií]culo|Art\.)\s+(\d+)\s*(o|º|°)?\.?\s*((?:Bis|Ter|Qu[aá]ter|Quinquies|Sexies|Septies|Octies|Nonies|Decies)\b)?\s*[.\-–—:]*\s*(.*)$",
)
_HEADING = re.compile(r"^(LIBRO|T[IÍ]TULO|CAP[IÍ]TULO|SECCI[OÓ]N)\s+(\S.*)$", re.IGNORECASE)
_FURNITURE = re.compile(
    r"^(C[AÁ]MARA DE DIPUTADOS DEL H\. CONGRESO DE LA UNI[OÓ]N|Secretar[ií]a General|"
    r"Secretar[ií]a de Servicios Parlamentarios|(?:[ÚU]ltima Reforma|Nueva Ley|Nuevo C[oó]digo).*DOF.*|"
    r"\d+ de \d+)$"
)
_REFORM = re.compile(
    r"^(?:(?:P[aá]rrafo|Art[ií]culo|Fracci[oó]n|Inciso|Cap[ií]tulo|T[ií]tulo|Secci[oó]n|Libro|Denominaci[oó]n|"
    r"Apartado|Numeral|Fe de erratas|Reforma|Ref\.|Adicionado|Reformado|Derogado)[^\n]{0,80}"
    r"(?:DOF|D\.O\.F\.)\s*\d{2}-\d{2}-\d{4}.*)$",
    re.IGNORECASE,
)
_END_OF_BODY = re.compile(r"^\s*(?:ART[IÍ]CULOS\s+)?TRANSITORIOS?\s*$", re.IGNORECASE)
_KINDS = {"libro": 0, "titulo": 1, "título": 1, "capitulo": 2, "capítulo": 2, "seccion": 3, "sección": 3}


def _law_id(file_name: str) -> str:
    return Path(file_name).stem


def read_manifest(corpus_root: Path) -> list[dict[str, str]]:
    """Rows of the raw corpus ``manifest.csv`` (file, title, category …)."""
    path = corpus_root / "manifest.csv"
    if not path.is_file():
        raise DataError(f"no manifest.csv in raw corpus folder {corpus_root}", file=str(path))
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _clean_lines(text: str, title: str) -> Iterator[str]:
    title_lines = {line.strip() for line in title.split("\n")}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line in title_lines or line == title or _FURNITURE.match(line) or _REFORM.match(line):
            continue
        yield line


def extract_articles(text: str, law_id: str, title: str, category: str) -> list[Article]:
    """Body articles of one raw law text, with the LIBRO/TÍTULO/CAPÍTULO/SECCIÓN path of each."""
    lines = list(_clean_lines(text, title))
    # the body starts at the first "Artículo 1"; the promulgation decree before it is dropped
    start = next((i for i, line in enumerate(lines) if (m := _ARTICLE.match(line)) and m.group(1) == "1"), None)
    if start is None:
        return []
    # headings just before article 1 belong to the body
    while start > 0 and (_HEADING.match(lines[start - 1]) or (start > 1 and _HEADING.match(lines[start - 2]))):
        start -= 1 if _HEADING.match(lines[start - 1]) else 2
    path: list[tuple[int, str]] = []
    articles: list[Article] = []
    current: dict | None = None
    seen: set[str] = set()
    i = start
    while i < len(lines):
        line = lines[i]
        if _END_OF_BODY.match(line):
            break
        heading = _HEADING.match(line)
        if heading and len(line) < 80:
            level = _KINDS.get(heading.group(1).lower().replace("í", "i").replace("ó", "o"), 2)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            name = nxt if nxt and not _ARTICLE.match(nxt) and not _HEADING.match(nxt) and len(nxt) < 160 else ""
            path = [p for p in path if p[0] < level] + [(level, f"{line} {name}".strip())]
            i += 2 if name else 1
            continue
        match = _ARTICLE.match(line)
        if match:
            label = (
                match.group(1)
                + ((match.group(2) and "o") or "")
                + (f" {match.group(3).title()}" if match.group(3) else "")
            )
            if label in seen:  # a repeated number means we ran into decree articles
                break
            seen.add(label)
            current = {
                "label": label,
                "number": int(match.group(1)),
                "path": [p[1] for p in path],
                "lines": [line],
            }
            articles.append(current)  # type: ignore[arg-type]
        elif current is not None:
            current["lines"].append(line)
        i += 1
    out = []
    for art in articles:
        body = " ".join(art["lines"])  # type: ignore[index]
        body = re.sub(r"\s+", " ", body).strip()
        out.append(
            Article(
                law_id=law_id,
                law_title=" ".join(title.split()),
                category=category,
                part="body",
                label=art["label"],  # type: ignore[index]
                number=art["number"],  # type: ignore[index]
                path=art["path"],  # type: ignore[index]
                text=body,
                derogated=bool(re.search(r"\(?Se deroga\)?\.?\s*$", body, re.IGNORECASE)),
            )
        )
    return out


def articles_from_raw_corpus(corpus_root: Path) -> list[Article]:
    """Every body article of every law of the raw corpus, in manifest order."""
    articles: list[Article] = []
    for row in read_manifest(corpus_root):
        text = (corpus_root / row["file"]).read_text(encoding="utf-8", errors="replace")
        articles += extract_articles(text, _law_id(row["file"]), row["title"], row["category"])
    return articles
