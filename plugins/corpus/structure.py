"""The Mexican-law article parser: law → preamble, body (with its hierarchy), transitorios, decree transitorios."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from harness.components import Article, Document, Options, Structurer
from harness_plugins.corpus.patterns import (
    BARE_ORDINAL_HEADING,
    DEROGATED,
    LEVELS,
    WORD_HEADING,
    article_heading,
    heading_label,
    heading_number,
    hierarchy_heading,
    is_heading_candidate,
    transitorios_start,
    word_label,
)

_DECREE_START = re.compile(r"^\s*DECRETO\b")
_ORDINAL_VALUES = {
    "primer": 1,
    "primero": 1,
    "primera": 1,
    "segundo": 2,
    "segunda": 2,
    "tercer": 3,
    "tercero": 3,
    "tercera": 3,
    "cuarto": 4,
    "cuarta": 4,
    "quinto": 5,
    "quinta": 5,
    "sexto": 6,
    "sexta": 6,
    "septimo": 7,
    "septima": 7,
    "octavo": 8,
    "octava": 8,
    "noveno": 9,
    "novena": 9,
    "decimo": 10,
    "decima": 10,
    "undecimo": 11,
    "duodecimo": 12,
    "vigesimo": 20,
    "trigesimo": 30,
    "cuadragesimo": 40,
    "quincuagesimo": 50,
    "unico": 1,
    "unica": 1,
}


def ordinal_value(label: str) -> int:
    """ "Décimo Segundo" → 12, "Decimocuarto" → 14; 0 when the words are not ordinals."""
    plain = unicodedata.normalize("NFKD", label.lower()).encode("ascii", "ignore").decode()
    total = 0
    for word in plain.split():
        for prefix in ("decimo", "vigesimo", "trigesimo", "cuadragesimo", "quincuagesimo"):
            if word.startswith(prefix) and word != prefix and word[len(prefix) :] in _ORDINAL_VALUES:
                total += _ORDINAL_VALUES[prefix] + _ORDINAL_VALUES[word[len(prefix) :]]
                break
        else:
            total += _ORDINAL_VALUES.get(word, 0)
    return total


class MxArticlesOptions(Options):
    #: a numbered heading more than this above the previous article is only taken as a heading if
    #: the next heading confirms the jump (guards against a wrapped cross-reference)
    max_gap: int = Field(40, ge=1)


@dataclass
class _Open:
    part: str
    label: str
    number: int
    path: list[str]
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class MxArticles(Structurer):
    """Splits a cleaned Mexican law into articles with their hierarchy path and reform notes."""

    Options = MxArticlesOptions
    description = "Mexican-law article parser (Libro/Título/Capítulo/Sección, transitorios, decrees)"

    def structure(self, doc: Document) -> list[Article]:
        """Articles of ``doc`` in text order; see :meth:`parse` for the per-law counts."""
        return self.parse(doc)[0]

    def parse(self, doc: Document) -> tuple[list[Article], dict[str, Any]]:
        """Articles and a summary (preamble size, rejected headings, notes outside articles)."""
        lines = doc.text.split("\n")
        numbered = [(i, m) for i, line in enumerate(lines) if (m := article_heading(line))]
        accepted_numbered = self._accepted_body_headings(lines, numbered)
        word_bodies = not accepted_numbered  # a law without numbered articles: take "Artículo Primero…"
        notes_by_anchor: dict[int, list[str]] = {}
        for anchor, note in doc.metadata.get("reform_notes", []):
            notes_by_anchor.setdefault(int(anchor), []).append(str(note))

        articles: list[_Open] = []
        current: _Open | None = None
        part, decree, path = "preamble", 0, ["", "", "", ""]
        pending_name: int | None = None  # hierarchy level whose name is on the next line
        anchors, preamble_lines, rejected = 0, 0, 0
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            is_candidate = is_heading_candidate(line)
            if is_candidate:
                anchors += 1
            section = transitorios_start(line)
            if section == "decree":
                part, current, pending_name = "decree_transitorio", None, None
                continue
            if section == "law" and part != "preamble":
                # in the decree part a TRANSITORIOS heading belongs to the current decree (same number)
                part = "transitorio" if part == "body" else part
                current, pending_name = None, None
                continue
            if part == "decree_transitorio" and _DECREE_START.match(line):
                decree += 1
                current = None
            hierarchy = hierarchy_heading(line) if part in ("preamble", "body") else None
            if hierarchy and not is_candidate and (part == "body" or accepted_numbered):
                level = LEVELS[_fold(hierarchy.group("level"))]
                path[level] = " ".join(line.split())
                for deeper in range(level + 1, len(path)):
                    path[deeper] = ""
                pending_name = level if not hierarchy.group("rest").strip() else None
                current = None
                continue
            if pending_name is not None and not is_candidate:
                path[pending_name] = f"{path[pending_name]} — {line.strip()}"
                pending_name = None
                continue
            pending_name = None
            new = self._heading(line, i, part, accepted_numbered, word_bodies) if is_candidate else None
            if new is not None:
                label, number, rest = new
                if part == "preamble":
                    part = "body"
                if part == "decree_transitorio":
                    label = f"D{decree} {label}"
                current = _Open(part, label, number, [p for p in path if p] if part == "body" else [])
                articles.append(current)
                if rest:
                    current.lines.append(rest)
            elif current is not None:
                rejected += is_candidate and part == "body"
                current.lines.append(line)
            else:
                preamble_lines += part == "preamble"
            if is_candidate and anchors in notes_by_anchor and current is not None:
                current.notes.extend(notes_by_anchor.pop(anchors))
        # notes whose article heading was not taken as one stay with the article they fall in
        stray = sum(len(v) for v in notes_by_anchor.values())
        out = self._finish(doc, articles)
        summary = {"preamble_lines": preamble_lines, "rejected_headings": rejected, "notes_outside_articles": stray}
        return out, summary

    def _accepted_body_headings(self, lines: list[str], numbered: list[tuple[int, re.Match[str]]]) -> set[int]:
        """Line numbers of numbered headings taken as body articles (before the transitorios)."""
        # the body ends at the first TRANSITORIOS after the first numbered heading (a promulgation
        # decree in the preamble may have its own)
        first = numbered[0][0] if numbered else 0
        end = next(
            (i for i in range(first, len(lines)) if transitorios_start(lines[i])),
            len(lines),
        )
        body = [(i, heading_number(m), heading_label(m)) for i, m in numbered if i < end]
        # articles come in order: the longest non-decreasing run of numbers is the body; a wrapped
        # cross-reference ("... por el\nArtículo 29.") or a quoted article falls out of it
        chain = longest_non_decreasing([number for _, number, _ in body])
        taken: list[int] = []  # indices into body, in text order
        seen: set[str] = set()
        previous = 0
        for k in chain:
            _, number, label = body[k]
            # a jump far ahead that the next heading does not confirm is a reference, not an article
            if taken and number > previous + self.options.max_gap:
                following = [n for _, n, _ in body[k + 1 : k + 3]]
                if not any(number <= n <= number + self.options.max_gap for n in following):
                    continue
            if label not in seen:
                taken.append(k)
                seen.add(label)
                previous = number
        # a heading the chain passed over for a repeated one ("5o, 6o, 5o, 7o") fits between its neighbours
        for k, (_, number, label) in enumerate(body):
            if label in seen:
                continue
            at = bisect.bisect_left(taken, k)
            before = body[taken[at - 1]][1] if at else 0
            after = body[taken[at]][1] if at < len(taken) else None
            if before < number and (after is None or number < after):
                taken.insert(at, k)
                seen.add(label)
        return {body[k][0] for k in taken}

    @staticmethod
    def _heading(
        line: str, index: int, part: str, accepted: set[int], word_bodies: bool
    ) -> tuple[str, int, str] | None:
        """(label, number, text after the heading) when ``line`` starts an article here."""
        if part in ("preamble", "body"):
            if index in accepted:
                m = article_heading(line)
                assert m is not None
                return heading_label(m), heading_number(m), line[m.end() :].strip()
            if word_bodies and (w := WORD_HEADING.match(line)) and w.group("kw"):
                label = word_label(w)
                return label, ordinal_value(label), line[w.end() :].strip()
            return None
        if m := article_heading(line):
            return heading_label(m), heading_number(m), line[m.end() :].strip()
        if w := WORD_HEADING.match(line):
            label = word_label(w)
            return label, ordinal_value(label), line[w.end() :].strip()
        if b := BARE_ORDINAL_HEADING.match(line):
            return f"{int(b.group('num'))}o", int(b.group("num")), line[b.end() :].strip()
        return None

    @staticmethod
    def _finish(doc: Document, articles: list[_Open]) -> list[Article]:
        out: list[Article] = []
        used: dict[tuple[str, str], int] = {}
        for a in articles:
            key = (a.part, a.label)
            used[key] = used.get(key, 0) + 1
            label = a.label if used[key] == 1 else f"{a.label} ({used[key]})"
            text = "\n".join(line.strip() for line in a.lines if line.strip())
            derogated = bool(DEROGATED.match(text)) or any(
                re.match(r"^Art[íi]culo\s+derogado", n, re.IGNORECASE) for n in a.notes
            )
            out.append(
                Article(
                    law_id=doc.id,
                    law_title=doc.title,
                    category=doc.category,
                    part=a.part,
                    label=label,
                    number=a.number,
                    path=a.path,
                    text=text,
                    reform_notes=a.notes,
                    derogated=derogated,
                )
            )
        return out


def longest_non_decreasing(values: list[int]) -> list[int]:
    """Indices of a longest non-decreasing subsequence of ``values`` (patience sorting, O(n log n))."""
    tails: list[Any] = []  # tails[k]: smallest last value of a run of length k + 1
    tail_index: list[int] = []
    parent = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect.bisect_right(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k], tail_index[k] = value, i
        parent[i] = tail_index[k - 1] if k else -1
    out, i = [], tail_index[-1] if tail_index else -1
    while i != -1:
        out.append(i)
        i = parent[i]
    return out[::-1]


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
