"""What the Spanish templates can say about an article: its citation, fracciones, definitions,
sentences, deadlines and headings, read with a few patterns of Mexican legislative drafting."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from harness.components import Article
from harness.instructions.text import sentences, tokens

_SMALL_WORDS = frozenset("de del la las los el y e o u en para por con sin a al sobre que se su sus".split())
_FEMININE = ("ley", "constitución", "constitucion", "ordenanza")
_HEADING_PREFIX = re.compile(
    r"^(libro|t[íi]tulo|cap[íi]tulo|secci[óo]n)\s+[\wÁÉÍÓÚáéíóú]+\s*[.:—–-]?\s*", re.IGNORECASE
)
_ARTICLE_HEADING = re.compile(r"^\s*(art[íi]culo|art\.)\s+[\w ]{1,20}?\s*(\.-|\.|-)\s*", re.IGNORECASE)
_FRACCION = re.compile(r"^\s*([IVXLC]+)\.\s+(\S.{8,})$")
_DEFINITION = re.compile(r"^\s*(?:[IVXLC]+\.\s+|[a-z]\)\s+)?([A-ZÁÉÍÓÚÑ][\wÁÉÍÓÚáéíóúñü ,/-]{2,70}?)\s*:\s+(\S.{10,})$")
_GLOSSARY = re.compile(r"se entender[áa]n? por|se entiende por|definiciones", re.IGNORECASE)
_DEADLINE = re.compile(
    r"\b(\d+|un|uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|treinta|cuarenta|"
    r"cuarenta y cinco|sesenta|noventa|ciento ochenta)\s+(d[íi]as|meses|años|horas|semanas)"
    r"(\s+(h[áa]biles|naturales))?\b",
    re.IGNORECASE,
)


def title_case(title: str) -> str:
    """``LEY FEDERAL DEL TRABAJO`` → ``Ley Federal del Trabajo``; mixed-case titles are kept."""
    title = " ".join(title.split())
    if title != title.upper():
        return title
    words = title.lower().split()
    return " ".join(w if (i and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def heading_name(heading: str) -> str:
    """``Capítulo I De los Derechos Humanos`` → ``De los Derechos Humanos`` (or the whole heading)."""
    heading = " ".join(heading.split())
    rest = _HEADING_PREFIX.sub("", heading).strip()
    return rest or heading


@dataclass
class ArticleFacts:
    """Derived views of one article, computed on demand."""

    article: Article

    @cached_property
    def law(self) -> str:
        """The law's title in title case."""
        return title_case(self.article.law_title)

    @cached_property
    def short_law(self) -> str:
        """The title up to its first comma: ``Ley de Amparo, Reglamentaria de …`` → ``Ley de Amparo``."""
        head = self.law.split(",", 1)[0].strip()
        return head if len(head.split()) >= 2 else self.law

    @cached_property
    def de_law(self) -> str:
        """``de la Ley …`` / ``del Código …``, with the short title (how laws are cited)."""
        name = self.short_law
        return f"de la {name}" if name.lower().startswith(_FEMININE) else f"del {name}"

    @cached_property
    def cite(self) -> str:
        """``artículo 5o``; transitory articles say so."""
        label = self.article.label
        return f"artículo {label} transitorio" if self.article.part != "body" else f"artículo {label}"

    @cached_property
    def body(self) -> str:
        """The article text without its own ``Artículo N.-`` heading."""
        text = self.article.text.strip()
        stripped = _ARTICLE_HEADING.sub("", text, count=1)
        return stripped if len(stripped) > 20 else text

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines of the body."""
        return [" ".join(line.split()) for line in self.body.splitlines() if line.strip()]

    @cached_property
    def sentences(self) -> list[str]:
        """Sentences of at least 8 words (fracciones count as sentences)."""
        return [s for s in sentences(self.body) if len(s.split()) >= 8]

    @cached_property
    def fracciones(self) -> list[tuple[str, str]]:
        """``(numeral, text)`` of each fracción written on its own line."""
        return [(m.group(1), m.group(2).strip()) for m in map(_FRACCION.match, self.lines) if m]

    @cached_property
    def definitions(self) -> list[tuple[str, str]]:
        """``(term, definition)`` of glossary lines ("Secretaría: La Secretaría de …")."""
        found: list[tuple[str, str]] = []
        # only glossary articles ("se entenderá por:"): elsewhere a colon introduces a list
        if not _GLOSSARY.search(self.body):
            return found
        for line in self.lines:
            m = _DEFINITION.match(line)
            if m and len(m.group(1).split()) <= 8:
                found.append((m.group(1).strip(), m.group(2).strip()))
        return found

    @cached_property
    def deadlines(self) -> list[tuple[str, str]]:
        """``(span, sentence)`` for each time limit ("quince días hábiles") in a sentence."""
        found = []
        for sentence in self.sentences:
            m = _DEADLINE.search(sentence)
            if m:
                found.append((m.group(0), sentence))
        return found

    @cached_property
    def chapter(self) -> str:
        """The innermost heading's name, or ``""`` outside any heading."""
        return heading_name(self.article.path[-1]) if self.article.path else ""

    @cached_property
    def words(self) -> int:
        """Number of word tokens in the body."""
        return len(tokens(self.body))


@dataclass
class CorpusIndex:
    """Cross-article lookups for distractors and chapter summaries."""

    facts: list[ArticleFacts]
    laws_by_category: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    headings_by_law: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sentences_by_law: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    chapters: dict[tuple[str, tuple[str, ...]], list[ArticleFacts]] = field(default_factory=lambda: defaultdict(list))
    categories: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, facts: list[ArticleFacts]) -> CorpusIndex:
        """Index the articles once per generation."""
        index = cls(facts)
        seen_laws: set[str] = set()
        for fact in facts:
            a = fact.article
            if a.law_id not in seen_laws:
                seen_laws.add(a.law_id)
                index.laws_by_category[a.category].append(fact.law)
            if fact.chapter and fact.chapter not in index.headings_by_law[a.law_id]:
                index.headings_by_law[a.law_id].append(fact.chapter)
            # a few sentences per article are enough for distractors and keep memory low
            index.sentences_by_law[a.law_id].extend(fact.sentences[:2])
            if a.path:
                index.chapters[(a.law_id, tuple(a.path))].append(fact)
        index.categories = sorted(index.laws_by_category)
        return index

    def all_laws(self) -> list[str]:
        """Every law title (title case), for distractors across categories."""
        return [law for laws in self.laws_by_category.values() for law in laws]
