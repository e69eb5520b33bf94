"""A quick regex article extractor for test fixtures and the benchmark's fallback.

Test data only: the corpus pipeline's structurer is the real one.  It drops the running page
headers and footers and the DOF reform notes, tracks LIBRO/TÍTULO/CAPÍTULO/SECCIÓN headings, and
splits the body (up to TRANSITORIOS) at article headings.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from harness.components import Article

_ARTICLE = re.compile(
    r"^(?:Artículo|ARTÍCULO|ARTICULO|Articulo|Art\.)\s+(\d+)\s*(o|º|°)?\s*\.?\s*"
    r"(Bis|Ter|Quáter|Quater|Quintus|Quinquies|Sexies|Septies|Octies|Nonies|Decies)?\s*\.?\s*-?\s*(.*)$",
)
_HEADING = re.compile(r"^(LIBRO|T[IÍ]TULO|CAP[IÍ]TULO|SECCI[OÓ]N|Libro|T[ií]tulo|Cap[ií]tulo|Secci[oó]n)\b\s*\S*.*$")
_LEVEL = {"libro": 0, "titulo": 1, "título": 1, "capitulo": 2, "capítulo": 2, "seccion": 3, "sección": 3}
_NOTE = re.compile(
    r"^(Párrafo|Parrafo|Fracción|Fracciones|Artículo|Inciso|Incisos|Apartado|Denominación|Capítulo|Título|"
    r"Sección|Base|Numeral|Fe de erratas|Libro|Último|Penúltimo|Reforma|Párrafos|Artículos|Se reforma)\b.*"
    r"DOF \d{2}-\d{2}-\d{4}"
)
_FOOTER = re.compile(r"^\d+ de \d+$")
_END = re.compile(r"^\s*(ARTÍCULOS? TRANSITORIOS|TRANSITORIOS?|Transitorios?)\s*$")
_NUMERAL = re.compile(r"^([IVXLC]+\.|[a-z]\))(\s|$)")


def _furniture(lines: list[str]) -> set[str]:
    title: list[str] = []
    for line in lines[:10]:
        if line.startswith("CÁMARA DE DIPUTADOS"):
            break
        if line.strip():
            title.append(line.strip())
    return {
        *title,
        "CÁMARA DE DIPUTADOS DEL H. CONGRESO DE LA UNIÓN",
        "Secretaría General",
        "Secretaría de Servicios Parlamentarios",
    }


def _unwrap(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not out:
            out.append(line)
        elif re.fullmatch(r"[IVXLC]+\.", out[-1]) or not (out[-1].endswith((".", ":", ";")) or _NUMERAL.match(line)):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def extract_articles(path: Path, law_id: str, title: str, category: str, limit: int | None = None) -> list[Article]:
    """Body articles of one raw law file (at most ``limit``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    skip = _furniture(lines)
    articles: list[Article] = []
    heading_path: list[tuple[int, str]] = []
    pending_heading: int | None = None
    current: dict | None = None
    started = False

    def close() -> None:
        if current is not None and current["lines"]:
            text = _unwrap(current["lines"])
            derogated = bool(re.match(r"^\(?(Se deroga|Derogado)", current["lines"][0]))
            articles.append(
                Article(
                    law_id,
                    title,
                    category,
                    "body",
                    current["label"],
                    current["number"],
                    current["path"],
                    text,
                    current["notes"],
                    derogated,
                )
            )

    for raw in lines:
        line = " ".join(raw.split())
        if (
            not line
            or line in skip
            or _FOOTER.match(line)
            or re.match(r"^(Última Reforma|Nueva Ley|Ultima Reforma) DOF", line)
        ):
            continue
        if started and _END.match(line):
            break
        if _NOTE.match(line) and len(line) < 200:
            if current is not None:
                current["notes"].append(line)
            continue
        heading = _HEADING.match(line)
        if heading and len(line) < 160 and not line.endswith(","):
            level = _LEVEL.get(heading.group(1).lower(), 2)
            heading_path = [h for h in heading_path if h[0] < level] + [(level, line)]
            pending_heading = len(heading_path) - 1
            continue
        article = _ARTICLE.match(line)
        if article:
            started = True
            close()
            if limit is not None and len(articles) >= limit:
                return articles
            number, suffix = int(article.group(1)), article.group(3)
            label = f"{number}{article.group(2) or ''}" + (f" {suffix}" if suffix else "")
            current = {
                "label": label,
                "number": number,
                "path": [h for _, h in heading_path],
                "lines": [],
                "notes": [],
            }
            if article.group(4):
                current["lines"].append(article.group(4))
            pending_heading = None
            continue
        if pending_heading is not None and not line.endswith(".") and len(line) < 150:
            # the heading's name on the line after "CAPÍTULO I"
            level, text = heading_path[pending_heading]
            heading_path[pending_heading] = (level, f"{text} {line}")
            pending_heading = None
            continue
        pending_heading = None
        if current is not None:
            current["lines"].append(line)
    close()
    return articles[:limit] if limit is not None else articles


def manifest(root: Path) -> list[dict[str, str]]:
    """Rows of the raw corpus's ``manifest.csv``."""
    with (root / "manifest.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def corpus_articles(root: Path, files: list[str] | None = None, limit: int | None = None) -> list[Article]:
    """Articles of the named files (``federales/txt/x.txt``), or of every file in the manifest."""
    out: list[Article] = []
    for row in manifest(root):
        if files is not None and row["file"] not in files:
            continue
        law_id = Path(row["file"]).stem
        title = " ".join(row["title"].split())
        out += extract_articles(root / row["file"], law_id, title, row["category"], limit)
    return out
