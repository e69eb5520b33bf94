"""The builders of ``mx_templates``: one function per task type, article (or chapter) → pair.

Each returns ``None`` when the article offers nothing for its task (no fracción, no chapter …);
the generator counts those and moves to the next article.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.components import InstructionPair
from harness.instructions.text import truncate_words
from harness_plugins.instructions.content import build_legal_mcqa, build_legal_qa
from harness_plugins.instructions.facts import ArticleFacts, CorpusIndex
from harness_plugins.instructions.templates_es import NO, TEMPLATES, YES

if TYPE_CHECKING:
    from harness_plugins.instructions.mx_templates import MxTemplates

LETTERS = "ABCD"
_NUMBER = re.compile(r"\b\d{1,4}\b")
_MODALS = [
    (" no podrá ", " podrá "),
    (" no deberá ", " deberá "),
    (" podrá ", " no podrá "),
    (" deberá ", " no deberá "),
    (" será ", " no será "),
    (" tendrá ", " no tendrá "),
]
Unit = Any  # an ArticleFacts or a chapter (list of ArticleFacts)


def _articles(index: CorpusIndex, rng: random.Random) -> list[ArticleFacts]:
    order = list(index.facts)
    rng.shuffle(order)
    return order


def _in(span: str, text: str) -> bool:
    return " ".join(span.split()) in " ".join(text.split())


def _extractive(
    gen: MxTemplates, fact: ArticleFacts, rng: random.Random
) -> tuple[str, str, str, dict[str, str]] | None:
    """(kind, answer, context, values) of one extractive question about ``fact``."""
    context = gen.context(fact)
    options: list[tuple[str, str, dict[str, str]]] = []
    options += [("fraccion", text, {"numeral": num}) for num, text in fact.fracciones]
    options += [("definicion", text, {"term": term}) for term, text in fact.definitions]
    options += [("plazo", span, {}) for span, _ in fact.deadlines]
    options = [o for o in options if _in(o[1], context)]
    if not options and fact.sentences and _in(fact.sentences[0], context):
        options = [("primera", fact.sentences[0], {})]
    if not options:
        return None
    kind, answer, values = rng.choice(options)
    return kind, answer, context, values


def build_exqa(gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """A question whose answer is a span of the article (fracción, definition, deadline, first sentence)."""
    found = _extractive(gen, fact, rng)
    if found is None:
        return None
    kind, answer, context, values = found
    return gen.pair(fact, "exqa", kind, rng, answer, context, **values)


def build_qg(gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """The reverse of exqa: given the answer, write the question."""
    found = _extractive(gen, fact, rng)
    if found is None or len(found[1]) > 300:
        return None
    kind, answer, context, values = found
    question = TEMPLATES[f"exqa.{kind}"][0].format(cite=fact.cite, de_law=fact.de_law, law=fact.law, **values)
    return gen.pair(fact, "qg", "respuesta", rng, question, context, answer=answer)


def _altered(sentence: str, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> tuple[str, str] | None:
    """A false variant of ``sentence``: another number, a negated modal, or another article's sentence."""
    numbers = _NUMBER.findall(sentence)
    if numbers and rng.random() < 0.5:
        old = rng.choice(numbers)
        new = str(int(old) + rng.randint(1, 9))
        return re.sub(rf"\b{old}\b", new, sentence, count=1), f"El artículo dice: «{sentence}»"
    padded = f" {sentence} "
    for before, after in _MODALS:
        if before in padded and rng.random() < 0.7:
            return padded.replace(before, after, 1).strip(), f"El artículo dice: «{sentence}»"
    others = [
        s for s in index.sentences_by_law[fact.article.law_id] if s not in fact.sentences and len(s.split()) <= 60
    ]
    if not others:
        return None
    return rng.choice(others), f"Esa disposición no forma parte del {fact.cite} {fact.de_law}."


def build_ynqa(gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """A statement taken from the article (yes) or altered (no), with or without the article."""
    candidates = [s for s in fact.sentences if len(s.split()) <= 60]
    if not candidates:
        return None
    sentence = rng.choice(candidates)
    with_context = rng.random() < 0.6
    kind = "contexto" if with_context else "memoria"
    context = gen.context(fact) if with_context else ""
    if rng.random() < 0.5:
        why = f"El {fact.cite} {fact.de_law} dice: «{sentence}»"
        return gen.pair(
            fact, "ynqa", kind, rng, rng.choice(YES).format(why=why), context, statement=sentence.rstrip(".")
        )
    altered = _altered(sentence, fact, index, rng)
    if altered is None or altered[0] == sentence:
        return None
    statement, why = altered
    return gen.pair(fact, "ynqa", kind, rng, rng.choice(NO).format(why=why), context, statement=statement.rstrip("."))


def _options(correct: str, distractors: list[str], rng: random.Random) -> tuple[str, str] | None:
    pool = sorted({d for d in distractors if d != correct})
    if len(pool) < 3:
        return None
    choices = [*rng.sample(pool, 3), correct]
    rng.shuffle(choices)
    letter = LETTERS[choices.index(correct)]
    listing = "\n".join(f"{LETTERS[i]}) {text}" for i, text in enumerate(choices))
    return listing, f"{letter}) {correct}"


def build_mcqa(gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """Four options: which law, which sentence of the article, or which chapter."""
    kinds = ["ley", "oracion", "capitulo"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "ley":
            same = [law for law in index.laws_by_category[fact.article.category] if law != fact.law]
            made = _options(fact.law, same if len(same) >= 3 else index.all_laws(), rng)
        elif kind == "oracion":
            own = [s for s in fact.sentences if len(s) <= 300]
            others = [
                s for s in index.sentences_by_law[fact.article.law_id] if s not in fact.sentences and len(s) <= 300
            ]
            made = _options(rng.choice(own), others, rng) if own else None
        else:
            made = _options(fact.chapter, index.headings_by_law[fact.article.law_id], rng) if fact.chapter else None
        if made is not None:
            listing, answer = made
            return gen.pair(fact, "mcqa", kind, rng, answer, gen.context(fact), options=listing)
    return None


def build_qa(gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """Open questions: an article's content (closed book), its number, or where it sits in the law."""
    kind = rng.choice(["contenido", "contenido", "numero", "ubicacion"])
    if kind == "ubicacion" and fact.article.path:
        return gen.pair(fact, "qa", kind, rng, " > ".join(" ".join(h.split()) for h in fact.article.path) + ".")
    if kind == "numero":
        return gen.pair(fact, "qa", kind, rng, f"Es el {fact.cite} {fact.de_law}.", gen.context(fact))
    response = truncate_words(fact.body, gen.options.max_response_chars)  # type: ignore[attr-defined]
    return gen.pair(fact, "qa", "contenido", rng, response)


def _summary_units(index: CorpusIndex, rng: random.Random) -> list[Unit]:
    # whole chapters first (the harder, more useful task), then single articles
    chapters = [facts for facts in index.chapters.values() if len(facts) >= 2 and facts[0].chapter]
    rng.shuffle(chapters)
    return [*chapters, *_articles(index, rng)]


def build_summarization(gen: MxTemplates, unit: Unit, index: CorpusIndex, rng: random.Random) -> InstructionPair | None:
    """A chapter's articles → its heading; an article → its chapter's heading."""
    if isinstance(unit, list):
        first = unit[0]
        text = "\n\n".join(f"Artículo {f.article.label}. {f.body}" for f in unit)
        context = truncate_words(text, gen.options.max_context_chars)  # type: ignore[attr-defined]
        pair = gen.pair(first, "summarization", "capitulo", rng, first.chapter, context)
        pair.article_label = ""  # a chapter, not one article: the per-article cap does not apply
        return pair
    if not unit.chapter:
        return None
    return gen.pair(unit, "summarization", "articulo", rng, unit.chapter, gen.context(unit))


def build_topic_class(
    gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random
) -> InstructionPair | None:
    """Which law, which kind of law, or which title of the law an article belongs to."""
    kinds = ["ley", "ley", "categoria", "titulo"]
    kind = rng.choice(kinds)
    context = gen.context(fact)
    if kind == "categoria" and len(index.categories) >= 2:
        return gen.pair(
            fact,
            "topic_class",
            kind,
            rng,
            fact.article.category,
            context,
            categories=", ".join(index.categories),
        )
    if kind == "titulo" and len(fact.article.path) >= 2:
        return gen.pair(fact, "topic_class", kind, rng, " ".join(fact.article.path[0].split()), context)
    return gen.pair(fact, "topic_class", "ley", rng, fact.law, context)


def build_sent_comp(
    gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random
) -> InstructionPair | None:
    """The first part of one of the article's sentences; the response is the rest."""
    candidates = [s for s in fact.sentences if 10 <= len(s.split()) <= 80]
    if not candidates:
        return None
    words = rng.choice(candidates).split()
    cut = rng.randint(max(3, len(words) * 2 // 5), max(4, len(words) * 3 // 5))
    prefix, rest = " ".join(words[:cut]), " ".join(words[cut:])
    if rng.random() < 0.6:
        return gen.pair(fact, "sent_comp", "memoria", rng, rest, prefix=prefix)
    return gen.pair(fact, "sent_comp", "contexto", rng, rest, gen.context(fact), prefix=prefix)


Builder = Callable[[Any, Any, CorpusIndex, random.Random], "InstructionPair | None"]
BUILDERS: dict[str, tuple[Callable[[CorpusIndex, random.Random], list[Unit]], Builder]] = {
    "exqa": (_articles, build_exqa),
    "qg": (_articles, build_qg),
    "ynqa": (_articles, build_ynqa),
    "mcqa": (_articles, build_mcqa),
    "qa": (_articles, build_qa),
    "summarization": (_summary_units, build_summarization),
    "topic_class": (_articles, build_topic_class),
    "sent_comp": (_articles, build_sent_comp),
    "legal_qa": (_articles, build_legal_qa),
    "legal_mcqa": (_articles, build_legal_mcqa),
}
