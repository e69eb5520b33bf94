"""Content questions about articles for ``mx_templates``: what an article *says*, not where it is.

Two task types, the kinds of the hand-written legal-QA benchmark:

- ``legal_qa``: an open question about one provision of the article (a plazo, the competent
  authority, an amount, a sanction, a definition), asked about the provision with the value
  left out, with the article as context (open book) or without it (closed book).  The response
  is a full Spanish sentence that cites the article and quotes the provision ("Según el artículo
  35 Bis de la Ley …, el plazo es de sesenta días. El artículo dispone: «…»"); a third of them
  ask for the bare value ("Responde solo con el dato: …" → "sesenta días") so that the adapter
  learns to answer at the length it is asked for.
- ``legal_mcqa``: the same questions with four options whose distractors are values of the same
  kind taken from *other* articles of the same law (its other plazos, authorities, amounts,
  definitions), plus closed lists ("¿Cuál NO figura …?": three of the article's fracciones and
  one of another article of the law).  The response is the exact text of the correct option, the
  continuation the legal-QA tasks score.

The values are found with a few patterns of Mexican legislative drafting (:data:`PATTERNS`).  The
patterns are written here because no library parses Spanish statutes into such facts; they keep
precision over recall: a provision they miss yields no question, a provision they match yields a
question whose answer is a span of the article.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.components import InstructionPair
from harness_plugins.instructions.facts import ArticleFacts, CorpusIndex

if TYPE_CHECKING:
    from harness_plugins.instructions.mx_templates import MxTemplates

_UNITS = (
    "un|uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|"
    "dieciséis|diecisiete|dieciocho|diecinueve|veinte|veintiuno|veintidós|veintitrés|veinticuatro|"
    "veinticinco|veintiséis|veintisiete|veintiocho|veintinueve|treinta|cuarenta|cincuenta|sesenta|"
    "setenta|ochenta|noventa|cien|ciento|doscientos|trescientos|cuatrocientos|quinientos|seiscientos|"
    "setecientos|ochocientos|novecientos|mil"
)
_NUM = rf"(?:\d[\d,.]*|(?:{_UNITS})(?:\s+(?:y\s+)?(?:{_UNITS}))*)"
_AUTHORITY_HEADS = (
    "Secretaría|Comisión|Instituto|Junta|Ministerio Público|Servicio de Administración Tributaria|"
    "Banco de México|Ejecutivo Federal|Presidente de la República|Tribunal|Cámara|Procuraduría|"
    "Fiscalía|Juez|Jueza|Suprema Corte|Congreso|Pleno|Asamblea|Consejo|Agencia|Director General|"
    "Auditoría Superior|Comité|Unidad|Órgano|Sala|Senado|Defensoría|Coordinación|Dirección General"
)
_CAP = r"[A-ZÁÉÍÓÚÑ][\wáéíóúñü]+"

#: kind → pattern of the value a question asks for (group 0 is the answer span)
PATTERNS: dict[str, re.Pattern[str]] = {
    # not "cien días de salario", "trescientos días multa" or "dos años de prisión": amounts and penalties
    "plazo": re.compile(
        rf"(?<!\ba\s)\b{_NUM}\s+(?:d[íi]as|meses|años|horas|semanas)(?:\s+(?:h[áa]biles|naturales))?\b"
        r"(?!\s+(?:de\s+salario|multa|de\s+multa|de\s+prisión|de\s+la\s+Unidad|de\s+su\s+salario))",
        re.IGNORECASE,
    ),
    "sancion": re.compile(
        rf"\b(?:prisión\s+de\s+{_NUM}\s+a\s+{_NUM}\s+(?:años|meses)|de\s+{_NUM}\s+a\s+{_NUM}\s+(?:años|meses)\s+de\s+prisión)"
    ),
    "cuantia": re.compile(
        rf"\b(?:de\s+{_NUM}\s+a\s+)?{_NUM}\s+(?:por\s+ciento|días\s+multa|días\s+de\s+salario(?:\s+mínimo)?|"
        rf"veces\s+el\s+salario\s+mínimo|veces\s+(?:el\s+valor\s+diario\s+de\s+)?la\s+Unidad\s+de\s+Medida\s+y\s+"
        rf"Actualización|Unidades\s+de\s+Medida\s+y\s+Actualización|pesos)\b"
    ),
    "autoridad": re.compile(
        rf"\b(?:[Ll]a|[Ee]l)\s+(?:{_AUTHORITY_HEADS})(?:(?:\s+(?:de|del|de\s+la|de\s+los|para\s+la|y|e|en))?\s+{_CAP})*"
    ),
}
#: how the response names the value of each kind
_STATES = {
    "plazo": "el plazo es de {answer}",
    "sancion": "la pena es de {answer}",
    "cuantia": "la cuantía es de {answer}",
    "autoridad": "la autoridad que señala es {answer}",
}
_MASK = "___"
#: share of ``legal_qa`` items answered with the bare value instead of a cited sentence
_BRIEF_SHARE = 1 / 3
_MAX_SENTENCE_WORDS = 70
_MAX_OPTION_CHARS = 220


@dataclass(frozen=True)
class Provision:
    """One value of an article and the sentence that states it."""

    kind: str
    answer: str
    sentence: str

    @property
    def masked(self) -> str:
        """The sentence with every occurrence of the value left out (also capitalised)."""
        return self.sentence.replace(self.answer, _MASK).replace(self.answer[:1].upper() + self.answer[1:], _MASK)


def provisions(fact: ArticleFacts) -> list[Provision]:
    """Every value of :data:`PATTERNS` in the article's sentences (one per kind and sentence)."""
    found: list[Provision] = []
    for sentence in fact.sentences:
        if len(sentence.split()) > _MAX_SENTENCE_WORDS:
            continue
        for kind, pattern in PATTERNS.items():
            match = pattern.search(sentence)
            if match is None:
                continue
            answer = match.group(0).strip()
            # "La Secretaría …" at the start of a sentence is the option "la Secretaría"
            answer = answer[:1].lower() + answer[1:]
            # a value that is most of the sentence leaves nothing to ask about
            if len(answer.split()) >= 2 or kind == "autoridad":
                if len(sentence) - len(answer) >= 40:
                    found.append(Provision(kind, answer, sentence))
    return found


@dataclass
class ContentIndex:
    """Per law: the values of each kind and the fracciones, for same-law distractors."""

    values: dict[tuple[str, str], list[str]]
    fracciones: dict[str, list[tuple[str, str]]]  # law_id → (article label, fracción text)
    definitions: dict[str, list[tuple[str, str, str]]]  # law_id → (article label, term, definition)

    @classmethod
    def of(cls, index: CorpusIndex) -> ContentIndex:
        """Built once per :class:`CorpusIndex` and kept on it."""
        cached = getattr(index, "_content", None)
        if cached is not None:
            return cached
        values: dict[tuple[str, str], set[str]] = defaultdict(set)
        fracciones: dict[str, list[tuple[str, str]]] = defaultdict(list)
        definitions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for fact in index.facts:
            law = fact.article.law_id
            for p in provisions(fact):
                values[(law, p.kind)].add(p.answer)
            fracciones[law].extend((fact.article.label, text) for _, text in fact.fracciones[:6])
            definitions[law].extend((fact.article.label, term, text) for term, text in fact.definitions)
        built = cls({k: sorted(v) for k, v in values.items()}, fracciones, definitions)
        index._content = built  # type: ignore[attr-defined]
        return built


_NOT_AN_OPTION = re.compile(r"\.{4,}|\bse\s+deroga|\bderogad[oa]", re.IGNORECASE)


def _option_ok(text: str) -> bool:
    """A fracción fit to be an option: short, not repealed, not a row of a fee table."""
    return len(text) <= _MAX_OPTION_CHARS and len(text.split()) >= 3 and not _NOT_AN_OPTION.search(text)


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def _distractors(correct: str, pool: list[str], rng: random.Random, count: int = 3) -> list[str] | None:
    folded = _fold(correct)
    seen = {folded}
    candidates = []
    for value in pool:
        key = _fold(value)
        if key not in seen and folded not in key and key not in folded:
            seen.add(key)
            candidates.append(value)
    if len(candidates) < count:
        return None
    return rng.sample(candidates, count)


def _question(gen: MxTemplates, fact: ArticleFacts, rng: random.Random, kind: str, **values: str) -> str:
    from harness_plugins.instructions.templates_es import TEMPLATES

    choices = TEMPLATES[f"pregunta.{kind}"]
    return choices[rng.randrange(len(choices))].format(cite=fact.cite, de_law=fact.de_law, law=fact.law, **values)


#: authorities are named in most articles: drawn at half the weight of the rarer kinds
_KIND_WEIGHTS = {"autoridad": 0.5}


def _pick(fact: ArticleFacts, rng: random.Random) -> Provision | tuple[str, str] | None:
    """A provision, or a ``(term, definition)``, of a kind drawn at random among the article's."""
    by_kind: dict[str, list[Provision | tuple[str, str]]] = defaultdict(list)
    for p in provisions(fact):
        by_kind[p.kind].append(p)
    if fact.definitions:
        by_kind["definicion"].extend(fact.definitions)
    if not by_kind:
        return None
    kinds = sorted(by_kind)
    kind = rng.choices(kinds, weights=[_KIND_WEIGHTS.get(k, 1.0) for k in kinds])[0]
    return rng.choice(by_kind[kind])


def build_legal_qa(
    gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random
) -> InstructionPair | None:
    """An open question about one provision, answered in a sentence that cites the article."""
    picked = _pick(fact, rng)
    if picked is None:
        return None
    with_context = rng.random() < 0.5
    context = gen.context(fact) if with_context else ""
    book = "contexto" if with_context else "memoria"
    # a third of the questions ask for the bare value ("Responde solo con el dato"): the adapter
    # learns to answer in the length it is asked for, not one cited sentence for every prompt
    brief = rng.random() < _BRIEF_SHARE
    if isinstance(picked, Provision):
        if with_context and picked.sentence not in context:
            return None
        # "la cuantía es de" + "de cien a trescientos días multa": one "de"
        stated = _STATES[picked.kind].format(answer=picked.answer.removeprefix("de "))
        response = f"Según el {fact.cite} {fact.de_law}, {stated}. El artículo dispone: «{picked.sentence}»"
        if brief:
            response = picked.answer.removeprefix("de ")
        kind = picked.kind
        values = {"masked": picked.masked}
    else:
        term, definition = picked
        if with_context and definition not in context:
            return None
        response = f"Según el {fact.cite} {fact.de_law}, por «{term}» se entiende: {definition}"
        if brief:
            response = definition
        kind, values = "definicion", {"term": term}
    if brief:
        book = f"{book}_breve"
    pair = gen.pair(fact, "legal_qa", book, rng, response, context, question=_question(gen, fact, rng, kind, **values))
    pair.template_or_model = f"legal_qa.{kind}.{book}.{pair.template_or_model.rsplit('.', 1)[1]}"
    return pair


def _lists(fact: ArticleFacts, content: ContentIndex, rng: random.Random) -> tuple[str, str, list[str]] | None:
    """``(question kind, correct option, distractors)`` of a "¿Cuál NO …?" item on the fracciones."""
    own = list(dict.fromkeys(text for _, text in fact.fracciones if _option_ok(text)))
    if len({_fold(text) for text in own}) < len(own) or len(own) < 3:
        return None
    others = [
        text
        for label, text in content.fracciones[fact.article.law_id]
        if label != fact.article.label and _option_ok(text)
    ]
    foreign = _distractors("\n".join(own), others, rng, 1)
    if foreign is None or any(_fold(foreign[0]) == _fold(text) for text in own):
        return None
    return "lista", foreign[0], rng.sample(own, 3)


def build_legal_mcqa(
    gen: MxTemplates, fact: ArticleFacts, index: CorpusIndex, rng: random.Random
) -> InstructionPair | None:
    """Four options, distractors from other articles of the same law; the response is the option."""
    content = ContentIndex.of(index)
    law = fact.article.law_id
    made: tuple[str, str, list[str], dict[str, str]] | None = None
    if fact.fracciones and rng.random() < 0.25:
        listed = _lists(fact, content, rng)
        if listed is not None:
            made = (*listed, {})
    if made is None:
        picked = _pick(fact, rng)
        if isinstance(picked, Provision):
            pool = content.values.get((law, picked.kind), [])
            wrong = _distractors(picked.answer, pool, rng)
            if wrong is not None:
                made = (picked.kind, picked.answer, wrong, {"masked": picked.masked})
        elif picked is not None:
            term, definition = picked
            pool = [d for label, t, d in content.definitions[law] if t != term and len(d) <= _MAX_OPTION_CHARS]
            wrong = _distractors(definition, pool, rng) if len(definition) <= _MAX_OPTION_CHARS else None
            if wrong is not None:
                made = ("definicion", definition, wrong, {"term": term})
    if made is None:
        return None
    kind, correct, wrong, values = made
    choices = [*wrong, correct]
    rng.shuffle(choices)
    options = "\n".join(f"{'ABCD'[i]}) {text}" for i, text in enumerate(choices))
    with_context = rng.random() < 0.5
    context = gen.context(fact) if with_context else ""
    # the context may be cut: the answer (for a list, the article's own three options) must be in it
    if with_context and any(text not in context for text in (wrong if kind == "lista" else [correct])):
        return None
    book = "contexto" if with_context else "memoria"
    question = _question(gen, fact, rng, kind, **values)
    pair = gen.pair(fact, "legal_mcqa", book, rng, correct, context, question=question, options=options)
    pair.template_or_model = f"legal_mcqa.{kind}.{book}.{pair.template_or_model.rsplit('.', 1)[1]}"
    return pair
