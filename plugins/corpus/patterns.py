"""Line patterns of Mexican federal law texts, shared by the cleaners and the article parser.

The cleaners and the structurer must agree on what an article heading is: the reform-notes cleaner
anchors each note to the article heading line before it, and the parser finds the same lines.
"""

from __future__ import annotations

import re

#: "Bis", "Ter", ... as they follow an article number ("153-F Bis", "3o. Ter", "2 Quáter 1").
LATIN_SUFFIXES = (
    "Bis|Ter|Qu[áa]ter|Quinquies|Quintus|Sexies|Septies|S[ée]ptimus|Octies|Nonies|Novies|Decies|"
    "Undecies|Duodecies|Terdecies|Quaterdecies|Quindecies"
)
_TOKEN_SEP = r"(?:\s*\.?\s*[-–]\s*|\s+|\s*\.\s*)"
_SUFFIX = (
    rf"{_TOKEN_SEP}(?:(?:{LATIN_SUFFIXES})(?![A-Za-z])|(?-i:[A-ZÑ]{{1,2}})(?![A-Za-zÁÉÍÓÚáéíóú\d])"
    rf"|(?<=[-–\s])\d{{1,2}}(?![\d,]))"
)

#: A numbered article heading at the start of a line, e.g. "Artículo 1o.-", "ARTICULO 10 BIS.",
#: "Art. 5º.-", "Artículo 1,000.-", "Artículo 153-F Bis.", "Artículo 26." (alone on its line).
#: What follows the label must look like a heading's end: ".-", ".", "-", ":", "(Se deroga" or
#: the end of the line; "Artículo 27 de esta Constitución" (a wrapped reference) does not match.
ARTICLE_HEADING = re.compile(
    rf"^\s*(?P<kw>(?-i:Art[íi]culo|ART[ÍI]CULO|Art\.))\s*(?P<num>\d{{1,2}}(?:,\d{{3}})+|\d{{1,5}})"
    rf"(?P<ord>\s?/?[oº°](?![A-Za-zÁÉÍÓÚáéíóú]))?"  # "1o", "1º", "1/o"
    rf"(?P<suffix>(?:{_SUFFIX})*)"
    # a bare dash must be followed by a space: "Artículo 144-A de esta Ley" is a reference
    rf"(?P<sep>\s*\.\s*[-–—]+\s*|\s*[-–—]+(?:\s+|$)|\s*\.\s+|\s*\.?\s*$|\s*:\s*|\s*\.?\s*(?=\()"
    rf"|\.(?=[A-Za-zÁÉÍÓÚáéíóúñ“\"]))",
    re.IGNORECASE,
)

_ORDINAL_WORDS = (
    "primer[oa]?|segund[oa]|tercer[oa]?|cuart[oa]|quint[oa]|sext[oa]|s[ée]ptim[oa]|octav[oa]|noven[oa]|"
    "d[ée]cim[oa]|und[ée]cim[oa]|duod[ée]cim[oa]|vig[ée]sim[oa]|trig[ée]sim[oa]|cuadrag[ée]sim[oa]|"
    "quincuag[ée]sim[oa]|sexag[ée]sim[oa]|septuag[ée]sim[oa]|octog[ée]sim[oa]|nonag[ée]sim[oa]|"
    "[úu]nic[oa]"
)
_ORDINAL = rf"(?:(?:{_ORDINAL_WORDS})(?:\s*|-)){{1,3}}"

#: A transitory article: "Artículo Primero.", "ARTÍCULO ÚNICO.-", "Primero.-", "Décimo Segundo.-".
WORD_HEADING = re.compile(
    rf"^\s*(?:(?P<kw>(?-i:Art[íi]culo|ART[ÍI]CULO|Art\.))\s+)?(?P<word>{_ORDINAL})(?P<sep>\s*\.\s*[-–—]*\s*|\s*[-–—:]+\s*|\s*$)",
    re.IGNORECASE,
)

#: A transitory article numbered without "Artículo": "1º.-", "2o.-" (only read in the transitorios).
BARE_ORDINAL_HEADING = re.compile(r"^\s*(?P<num>\d{1,3})\s?[oº°]\s*\.?\s*[-–—]+\s*")

#: Start of the transitory articles of the law itself.
TRANSITORIOS = re.compile(
    r"^\s*(?:(?:ART[ÍI]CULOS?|DISPOSICIONES)\s+)?TRANSITORI[OA]S?\s*(?:DEL\s+DECRETO.*)?[.:]?\s*$", re.IGNORECASE
)
#: Start of the transitory articles of the reform decrees ("ARTÍCULOS TRANSITORIOS DE DECRETOS DE REFORMA").
DECREE_TRANSITORIOS = re.compile(
    r"^\s*ART[ÍI]CULOS\s+TRANSITORIOS\s+DE\s+(?:LOS\s+)?DECRETOS?\s+DE\s+REFORMAS?\s*$", re.IGNORECASE
)

_ROMAN = r"[IVXLCDM]+"
#: Libro / Título / Capítulo / Sección headings, all caps or title case, with or without accents.
HIERARCHY = re.compile(
    rf"^\s*(?P<level>LIBRO|T[ÍI]TULO|CAP[ÍI]TULO|SECCI[ÓO]N)\s+"
    rf"(?P<which>{_ORDINAL}|{_ROMAN}|\d+|[ÚU]NIC[OA]|PRELIMINAR)(?:\s*(?:{LATIN_SUFFIXES}))?\b\s*[.:-]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
LEVELS = {"libro": 0, "titulo": 1, "título": 1, "capitulo": 2, "capítulo": 2, "seccion": 3, "sección": 3}

#: "Párrafo reformado DOF 10-06-2011", "Fracción derogada DOF ...", "Reforma DOF 12-12-2011: Derogó ..."
_DATE = r"\d{2}-\d{2}-\d{4}"
NOTE_VERB = re.compile(
    r"\b(?:reformad|adicionad|derogad|recorrid|original|aclarad|abrogad|modificad|renumerad|reubicad)[oa]s?\b"
    r"|^Reforma\s+DOF|^Fe\s+de\s+erratas|\bDerogó\b",
    re.IGNORECASE,
)
NOTE_DATE = re.compile(rf"DOF\s+{_DATE}")
#: A continuation of a note wrapped onto the next line: only dates, "DOF", commas and "y".
NOTE_CONTINUATION = re.compile(rf"^\s*(?:(?:DOF\s+)?{_DATE}[,.;]?\s*(?:y\s+)?)+$")

#: Running-page footer.
FOOTER = re.compile(r"^\s*\d{1,4}\s+de\s+\d{1,4}\s*$")
HEADER_CHAMBER = "CÁMARA DE DIPUTADOS DEL H. CONGRESO DE LA UNIÓN"
HEADER_FIXED = ("Secretaría General", "Secretaría de Servicios Parlamentarios")
HEADER_DOF = re.compile(rf"^\s*(?:Última\s+Reforma|Nueva\s+Ley|Ultima\s+Reforma)\s+DOF\s+{_DATE}\s*$", re.IGNORECASE)

#: Articles whose whole text says they were repealed: "(Se deroga).", "Derogado.", "Se derogan."
DEROGATED = re.compile(r"^\W{0,3}(?:se\s+derog|derogad)[oa]?n?\b", re.IGNORECASE)


def transitorios_start(line: str) -> str | None:
    """ "decree" for the decree-transitorios heading, "law" for a TRANSITORIOS heading, else None."""
    if "ransitori" not in line and "RANSITORI" not in line:  # cheap test first: most lines have neither
        return None
    if DECREE_TRANSITORIOS.match(line):
        return "decree"
    return "law" if TRANSITORIOS.match(line) else None


def hierarchy_heading(line: str) -> re.Match[str] | None:
    """The Libro/Título/Capítulo/Sección match of ``line``, or None."""
    first = line.lstrip()[:1]
    return HIERARCHY.match(line) if first and first in "LlTtCcSs" else None


def is_reform_note(line: str) -> bool:
    """True for a DOF reform annotation line (not an article heading, short, names a DOF date)."""
    text = line.strip()
    if not text or len(text) > 300 or not NOTE_DATE.search(text):
        return False
    if ARTICLE_HEADING.match(text) and not re.match(r"^\s*Art[íi]culo\s+(?:\d+\s+)?[a-záéíóú]", text, re.IGNORECASE):
        return False
    verb = NOTE_VERB.search(text)
    if verb is None:
        return False
    # the annotated element comes first and is short: "Párrafo con incisos adicionado", not a sentence
    return len(text[: verb.start()].split()) <= 8 and text[0].isupper()


def article_heading(line: str) -> re.Match[str] | None:
    """The article-heading match of ``line`` (numbered headings only), or None."""
    if not line or line.lstrip()[:3] not in ("Art", "ART"):
        return None
    return ARTICLE_HEADING.match(line)


# one cheap test before the three heading patterns: most lines start with none of these
_CANDIDATE_START = re.compile(
    r"\s*(?:Art|ART|\d{1,3}\s?[oº°]|(?i:primer|segund|tercer|cuart|quint|sext|s[ée]ptim|octav|noven|d[ée]cim|"
    r"und[ée]|duod|vig[ée]|trig|cuadrag|quincuag|sexag|septuag|octog|nonag|[úu]nic))"
)


def is_heading_candidate(line: str) -> bool:
    """Any line that may start an article; the reform-notes cleaner and the parser count the same ones."""
    if not _CANDIDATE_START.match(line):
        return False
    return bool(article_heading(line) or WORD_HEADING.match(line) or BARE_ORDINAL_HEADING.match(line))


def heading_number(match: re.Match[str]) -> int:
    """The article number of a heading match ("1,000" → 1000)."""
    return int(match.group("num").replace(",", ""))


def heading_label(match: re.Match[str]) -> str:
    """Normalised label of a numbered heading: "1o", "10 Bis", "153-F Bis", "3o Ter"."""
    label = str(heading_number(match))
    if match.group("ord"):
        label += "o"
    latin = False
    for part in re.findall(rf"{LATIN_SUFFIXES}|[A-ZÑ]{{1,2}}|\d{{1,2}}", match.group("suffix") or "", re.IGNORECASE):
        if part.isdigit():
            label += f" {part}" if latin else f"-{part}"
        elif re.fullmatch(LATIN_SUFFIXES, part, re.IGNORECASE):
            label += f" {part.capitalize()}"
            latin = True
        else:
            label += f"-{part}"
    return label


def word_label(match: re.Match[str]) -> str:
    """Normalised label of a transitory heading: "Primero", "Décimo Segundo", "Único"."""
    words = re.split(r"[\s-]+", match.group("word").strip())
    return " ".join(w.capitalize() for w in words if w)
