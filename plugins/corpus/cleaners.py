"""Cleaners for pdftotext output of Mexican laws; each reports what it removed.

They work line by line on the whole law.  Order matters and comes from the spec; the intended one is
``unicode_repair, page_furniture, reform_notes, unwrap_lines, numeric_tables, quality``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from pydantic import Field

from harness.components import Cleaner, CleanResult, Document, Dropped, Options
from harness_plugins.corpus.patterns import (
    FOOTER,
    HEADER_CHAMBER,
    HEADER_DOF,
    HEADER_FIXED,
    NOTE_CONTINUATION,
    article_heading,
    hierarchy_heading,
    is_heading_candidate,
    is_reform_note,
    transitorios_start,
)

# mojibake of UTF-8 read as Latin-1/cp1252 ("Ã³", "â€œ"), and characters that only get in the way
_MOJIBAKE = re.compile(r"[ÃÂâ][\u0080-\u00bf€™œžš¡-¿]")
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_DIGIT = re.compile(r"\D+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_NOT_LETTER_NOR_SPACE = re.compile(r"[^\w\s]|[\d_]")


class UnicodeRepair(Cleaner):
    """NFC normalisation, ftfy on lines that look like mojibake, no soft hyphens or control chars."""

    description = "NFC, ftfy mojibake repair, invisible and control characters"

    def clean(self, doc: Document) -> CleanResult:
        """Repair the text; count the lines ftfy changed and the characters dropped."""
        text = doc.text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
        fixed = 0
        if _MOJIBAKE.search(text):
            import ftfy

            lines = text.split("\n")
            for i, line in enumerate(lines):
                if _MOJIBAKE.search(line):
                    new = ftfy.fix_text(line)
                    fixed += new != line
                    lines[i] = new
            text = "\n".join(lines)
        before = len(text)
        text = _CONTROL.sub("", _INVISIBLE.sub("", text))
        dropped = before - len(text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        return CleanResult(replace(doc, text=text), {"mojibake_lines": fixed, "invisible_chars": dropped})


class PageFurniture(Cleaner):
    """Running headers (title, chamber, DOF date, Secretaría lines) and "N de M" footers.

    A page break (footer, blank lines, header) falls mid-sentence, so it is replaced by a plain
    line break and the text on both sides rejoins; ``unwrap_lines`` then decides whether it is a
    paragraph break.
    """

    description = "running page headers and 'N de M' footers, rejoining text across page breaks"

    def clean(self, doc: Document) -> CleanResult:
        """Remove every header/footer run; count header and footer lines."""
        lines = doc.text.split("\n")
        header = self._header_lines(lines, doc.title)
        out: list[str] = []
        removed = {"header_lines": 0, "footer_lines": 0, "page_breaks": 0}
        i, n = 0, len(lines)
        while i < n:
            stripped = lines[i].strip()
            if stripped in header or FOOTER.match(stripped) or HEADER_DOF.match(stripped):
                j, chamber, footers, headers = i, False, 0, 0
                while j < n:
                    s = lines[j].strip()
                    if not s:
                        pass
                    elif FOOTER.match(s):
                        footers += 1
                    elif s in header or HEADER_DOF.match(s):
                        headers += 1
                        chamber = chamber or s == HEADER_CHAMBER
                    else:
                        break
                    j += 1
                if chamber or footers:
                    while out and not out[-1].strip():
                        out.pop()
                    removed["header_lines"] += headers
                    removed["footer_lines"] += footers
                    removed["page_breaks"] += 1
                    i = j
                    continue
            out.append(lines[i])
            i += 1
        return CleanResult(replace(doc, text="\n".join(out).strip("\n")), removed)

    @staticmethod
    def _header_lines(lines: list[str], title: str) -> set[str]:
        """The header lines: the first page's header block plus the fixed lines and the title."""
        found = {HEADER_CHAMBER, *HEADER_FIXED}
        found.update(part.strip() for part in title.split("\n") if part.strip())
        head = lines[:25]
        stripped = [s.strip() for s in head]
        if HEADER_FIXED[1] in stripped:
            found.update(s for s in stripped[: stripped.index(HEADER_FIXED[1]) + 1] if s)
        return found


class ReformNotes(Cleaner):
    """DOF reform annotations leave the text and go to ``metadata["reform_notes"]``.

    Each note is kept as ``[k, note]`` where ``k`` counts the article-heading lines before it,
    which is how the article parser gives each article its notes.
    """

    description = "DOF reform notes ('Párrafo reformado DOF …') moved from text to article metadata"

    def clean(self, doc: Document) -> CleanResult:
        """Remove note lines (and their wrapped continuations); count them."""
        out: list[str] = []
        notes: list[list[object]] = []
        headings = 0
        previous_note = False
        for line in doc.text.split("\n"):
            if is_heading_candidate(line):
                headings += 1
            if is_reform_note(line):
                notes.append([headings, line.strip()])
                previous_note = True
                continue
            if previous_note and NOTE_CONTINUATION.match(line):
                notes[-1][1] = f"{notes[-1][1]} {line.strip()}"
                continue
            previous_note = previous_note and not line.strip()
            out.append(line)
        metadata = {**doc.metadata, "reform_notes": notes}
        return CleanResult(replace(doc, text="\n".join(out), metadata=metadata), {"reform_notes": len(notes)})


_ITEM = re.compile(r"^\s*(?:[IVXLC]+|[a-zñ]|[A-Z]|\d{1,3})\s*(?:\.-|[.)]|\.\))\s*")
_LONE_ITEM = re.compile(r"^\s*(?:[IVXLC]+|[a-zñ]|[A-Z]|\d{1,3})\s*(?:\.-|[.)]|\.\))\s*$")


def starts_block(line: str) -> bool:
    """True for lines that always begin a paragraph: headings, fracciones, incisos, sections."""
    return bool(is_heading_candidate(line) or hierarchy_heading(line) or transitorios_start(line) or _ITEM.match(line))


#: titles and abbreviations that end a line with a full stop but not a sentence ("Dip.\nLaura Rojas")
ABBREVIATIONS = frozenset(
    "Dip. Sen. Lic. Gral. Ing. Dr. Dra. Sr. Sra. Ma. Mtro. Mtra. Profr. Profra. C. Cía. No. Núm. Art. Arts. "
    "fracc. Fracc. Ud. Uds. Edo. Cd. Col. Av. Gob. Secr. Pdte. Dn. D.F. S.A. Exp. pág. págs.".split()
)


def _heading_alone(line: str) -> bool:
    """True for "Artículo 1" with nothing after it (its text starts on the next line)."""
    m = article_heading(line)
    return m is not None and not line[m.end() :].strip()


class UnwrapOptions(Options):
    #: keep a paragraph break where a line ends a sentence (".", ":", ";") and the next starts upper case
    break_after_sentence: bool = True


class UnwrapLines(Cleaner):
    """Joins hard-wrapped lines into paragraphs, one per line; keeps fracción/inciso structure.

    A numeral alone on its line ("II.") is joined with the text after it.
    """

    Options = UnwrapOptions
    description = "join hard line wraps; keep paragraphs, headings, fracciones 'I.' and incisos 'a)'"

    def clean(self, doc: Document) -> CleanResult:
        """Return one paragraph per line; count the joins."""
        paragraphs: list[str] = []
        open_, numeral, joins = False, False, 0
        for raw in doc.text.split("\n"):
            line = raw.strip()
            if not line:
                open_ = numeral
                continue
            block = starts_block(line)
            if numeral and not (block and not _ITEM.match(line)):
                paragraphs[-1] = f"{paragraphs[-1]} {line}"
                numeral, open_ = False, True
                joins += 1
                continue
            numeral = False
            last = paragraphs[-1] if paragraphs else ""
            if (
                block
                and open_
                and line[0].isdigit()
                and last[-1:].isalnum()
                and _ITEM.match(line)
                and not _heading_alone(last)
            ):
                # "... lo dispuesto en el artículo" / "457." is a wrapped number, not a numbered item
                block = False
            if block:
                paragraphs.append(line)
                numeral = bool(_LONE_ITEM.match(line))
                # a section heading's name goes on its own line
                open_ = not (hierarchy_heading(line) or transitorios_start(line))
                continue
            ends = (
                last.endswith((".", ":", ";"))
                and self.options.break_after_sentence
                and last.rsplit(" ", 1)[-1] not in ABBREVIATIONS
            )
            if open_ and last and not (ends and not line[0].islower()):
                paragraphs[-1] = f"{last[:-1]}{line}" if last.endswith("-") and line[0].islower() else f"{last} {line}"
                joins += 1
            else:
                paragraphs.append(line)
            open_ = True
        return CleanResult(replace(doc, text="\n".join(paragraphs)), {"joined_lines": joins})


class TableOptions(Options):
    #: a run of at least this many table-like lines is removed
    min_run: int = Field(6, ge=2)
    #: share of the run's lines that must hold digits
    min_digit_lines: float = Field(0.3, ge=0, le=1)


class NumericTables(Cleaner):
    """Removes runs of table-like lines (tariff codes, fee schedules flattened by pdftotext)."""

    Options = TableOptions
    description = "drop runs of number-heavy table lines (tariff and fee laws)"

    def clean(self, doc: Document) -> CleanResult:
        """Remove table runs; count removed lines and runs."""
        lines = doc.text.split("\n")
        keep = [True] * len(lines)
        runs = removed = 0
        i = 0
        while i < len(lines):
            if not self._table_like(lines[i]):
                i += 1
                continue
            j, members = i, []
            while j < len(lines) and (not lines[j].strip() or self._table_like(lines[j])):
                if lines[j].strip():
                    members.append(j)
                j += 1
            digits = sum(any(c.isdigit() for c in lines[k]) for k in members)
            if len(members) >= self.options.min_run and digits >= self.options.min_digit_lines * len(members):
                for k in members:
                    keep[k] = False
                runs += 1
                removed += len(members)
            i = j
        text = "\n".join(line for line, k in zip(lines, keep) if k)
        return CleanResult(replace(doc, text=text), {"table_lines": removed, "table_runs": runs})

    @staticmethod
    def _table_like(line: str) -> bool:
        s = line.strip()
        if not s or (starts_block(s) and not s[:1].isdigit()):
            return False
        if len(s) <= 30:
            return True
        digits = len(_NOT_DIGIT.sub("", s))
        if not digits:
            return False
        compact = len(s) - s.count(" ")
        letters = len(_NOT_LETTER.sub("", s))
        return letters < 0.5 * compact and digits >= 0.25 * compact


class QualityOptions(Options):
    min_chars: int = Field(200, ge=0)
    min_letter_ratio: float = Field(0.5, ge=0, le=1)


class Quality(Cleaner):
    """Drops documents that are too short or mostly not letters."""

    Options = QualityOptions
    description = "drop documents under a minimum length or letter ratio"

    def clean(self, doc: Document) -> CleanResult:
        """Keep the document or drop it with the failed threshold as reason."""
        text = doc.text
        if len(text) < self.options.min_chars:
            return CleanResult(
                Dropped(f"shorter than {self.options.min_chars} characters ({len(text)})"), {"dropped_docs": 1}
            )
        # a ratio needs no exact count: 100 evenly spaced slices of a long law are enough
        step = max(2000, len(text) // 100)
        sample = "".join(text[i : i + 2000] for i in range(0, len(text), step))
        compact = len(sample) - sum(sample.count(c) for c in " \n\t\r\f\v")
        ratio = 1 - len(_NOT_LETTER_NOR_SPACE.findall(sample)) / max(1, compact)
        if ratio < self.options.min_letter_ratio:
            return CleanResult(
                Dropped(f"letter ratio {ratio:.2f} below {self.options.min_letter_ratio}"), {"dropped_docs": 1}
            )
        return CleanResult(doc, {})
