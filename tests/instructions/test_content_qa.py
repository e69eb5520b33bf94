"""``legal_qa`` and ``legal_mcqa``: content questions whose answers are spans of the article,
full-sentence responses that cite it, and four options with same-law distractors."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.components import Article, InstructionPair
from harness_plugins.instructions.content import PATTERNS, build_legal_mcqa, build_legal_qa, provisions
from harness_plugins.instructions.facts import ArticleFacts, CorpusIndex
from harness_plugins.instructions.mx_templates import MxTemplates

from .conftest import make_ctx

_OPTION = re.compile(r"^([ABCD])\) (.+)$", re.MULTILINE)


def _squash(text: str) -> str:
    return " ".join(text.split())


def check_pair(pair: InstructionPair, fact: ArticleFacts) -> str:
    """Assert that ``pair`` is well formed for ``fact``; return its question kind."""
    task, kind, book, _ = pair.template_or_model.split(".")
    book, _, brief = book.partition("_")
    assert task == pair.task_type and book in {"contexto", "memoria"} and brief in {"", "breve"}
    assert (pair.law_id, pair.article_label) == (fact.article.law_id, fact.article.label)
    assert bool(pair.context) == (book == "contexto")
    if pair.context:
        assert _squash(pair.context.removesuffix(" …")) in _squash(fact.body)  # the article, maybe cut
    body = _squash(fact.body)
    if task == "legal_qa" and brief:
        # the bare value: a span of the article, left out of the question
        assert _squash(pair.response).lower() in body.lower()
        assert any(cue in pair.instruction for cue in ("solo con el dato", "pocas palabras", "Respuesta breve"))
        assert not pair.response.startswith("Según") and not pair.response.startswith("de ")
        if kind != "definicion":
            asked = re.search(r"«(.+)»", pair.instruction, re.DOTALL).group(1)
            assert "___" in asked and pair.response not in asked
        return kind
    if task == "legal_qa":
        assert pair.response.startswith(f"Según el {fact.cite} {fact.de_law}, ")
        if kind == "definicion":
            term, definition = re.search(r"por «(.+?)» se entiende: (.+)$", pair.response, re.DOTALL).groups()
            assert f"«{term}»" in pair.instruction and _squash(definition) in body
        else:
            quoted = re.search(r"El artículo dispone: «(.+)»$", pair.response, re.DOTALL).group(1)
            assert _squash(quoted) in body
            stated = pair.response.removeprefix(f"Según el {fact.cite} {fact.de_law}, ").split(". El artículo")[0]
            value = re.fullmatch(r"(?:el plazo|la pena|la cuantía) es de (.+)|la autoridad que señala es (.+)", stated)
            value = next(g for g in value.groups() if g)
            assert value.lower() in quoted.lower() and "___" in pair.instruction
            assert not value.startswith("de ")  # "es de de cien a …" is not Spanish
            # the value is left out of the question
            capital = value[:1].upper() + value[1:]
            assert value in _squash(quoted) or capital in _squash(quoted)
            asked = re.search(r"«(.+)»", pair.instruction, re.DOTALL).group(1)  # the provision, value left out
            assert "___" in asked and value not in asked and capital not in asked
        return kind
    options = dict(_OPTION.findall(pair.instruction))
    assert sorted(options) == list("ABCD"), pair.instruction
    texts = list(options.values())
    assert len({_squash(t).lower() for t in texts}) == 4, texts
    assert texts.count(pair.response) == 1
    own = {_squash(text) for _, text in fact.fracciones}
    if kind == "lista":
        assert "NO" in pair.instruction
        assert _squash(pair.response) not in own and all(_squash(t) in own for t in texts if t != pair.response)
    else:
        assert _squash(pair.response) in body or _squash(pair.response[:1].upper() + pair.response[1:]) in body
    return kind


def build_all(articles: list[Article], seed: int = 0) -> tuple[Counter[str], set[str], int]:
    """Run both builders over every usable article; check every pair; counts per type.kind and laws."""
    gen = MxTemplates()
    facts = [ArticleFacts(a) for a in articles if not a.derogated and a.part == "body"]
    facts = [f for f in facts if f.words >= gen.options.min_words]
    index = CorpusIndex.build(facts)
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    laws: set[str] = set()
    for fact in facts:
        for build in (build_legal_qa, build_legal_mcqa):
            pair = build(gen, fact, index, rng)
            if pair is not None:
                counts[f"{pair.task_type}.{check_pair(pair, fact)}"] += 1
                counts[pair.task_type] += 1
                counts["brief"] += pair.template_or_model.split(".")[2].endswith("_breve")
                laws.add(pair.law_id)
    return counts, laws, len({f.article.law_id for f in facts})


def test_patterns_find_the_values_of_legal_drafting() -> None:
    def found(text: str) -> dict[str, str]:
        return {kind: m.group(0) for kind, p in PATTERNS.items() if (m := p.search(text))}

    assert found("La Secretaría resolverá en un plazo de quince días hábiles contados a partir de la solicitud.") == {
        "plazo": "quince días hábiles",
        "autoridad": "La Secretaría",
    }
    sentence = "La Secretaría resolverá en un plazo de quince días hábiles; la Secretaría notificará."
    article = Article("x", "LEY DE PRUEBA", "leyes", "body", "2", 2, [], "Artículo 2.- " + sentence)
    authority = [p for p in provisions(ArticleFacts(article)) if p.kind == "autoridad"]
    # an option reads "la Secretaría" wherever the article says it; the question leaves out both
    assert authority[0].answer == "la Secretaría" and authority[0].masked.count("___") == 2
    # an amount of days of salary is not a time limit, a penalty of years not a plazo
    assert found("se aplicará multa de ciento cincuenta a doscientos cincuenta días de salario mínimo") == {
        "cuantia": "de ciento cincuenta a doscientos cincuenta días de salario mínimo"
    }
    assert found("se impondrá prisión de dos a siete años y de cien a trescientos días multa") == {
        "sancion": "prisión de dos a siete años",
        "cuantia": "de cien a trescientos días multa",
    }
    assert found("lo remitirá al Servicio de Administración Tributaria") == {}  # "al" is not "el"
    assert found("lo remitirá el Servicio de Administración Tributaria") == {
        "autoridad": "el Servicio de Administración Tributaria"
    }


def test_provisions_skip_long_sentences_and_bare_values() -> None:
    article = Article(
        law_id="x",
        law_title="LEY DE PRUEBA",
        category="leyes",
        part="body",
        label="1",
        number=1,
        path=[],
        text="Artículo 1.- El Instituto deberá resolver dentro de los treinta días naturales siguientes a la "
        "recepción de la solicitud.\n" + "Palabra " * 80 + "en diez días hábiles.",
    )
    found = provisions(ArticleFacts(article))
    assert [(p.kind, p.answer) for p in found] == [("plazo", "treinta días naturales"), ("autoridad", "el Instituto")]
    assert found[0].masked.startswith("El Instituto deberá resolver dentro de los ___ siguientes")
    assert found[1].masked.startswith("___ deberá resolver dentro de los treinta")


def test_well_formed_on_the_fixture_laws(law_articles: list[Article]) -> None:
    counts, laws, _ = build_all(law_articles)
    assert counts["legal_qa.plazo"] > 0 and counts["legal_mcqa.plazo"] > 0 and counts["legal_qa.autoridad"] > 0
    assert len(laws) >= 5
    # about a third of the open questions ask for the bare value
    assert 0.2 < counts["brief"] / counts["legal_qa"] < 0.45


def test_the_default_mix_favours_content_questions(law_articles: list[Article], tmp_path: Path) -> None:
    gen = MxTemplates()
    from harness.instructions.generate import resolve_mix

    mix = resolve_mix(gen, {}, "mx_templates", make_ctx(tmp_path, 0))
    assert mix["legal_qa"] + mix["legal_mcqa"] == pytest.approx(0.5)
    assert mix["qa"] + mix["sent_comp"] <= 0.1  # transcription and completion: copying
    pairs = list(gen.generate(law_articles, 200, mix, make_ctx(tmp_path, 0)))
    counts = Counter(p.task_type for p in pairs)
    assert counts["legal_qa"] == 60 and counts["legal_mcqa"] == 40


@pytest.mark.slow
def test_well_formed_on_every_law_of_the_packaged_corpus(reference_corpus: list[Article]) -> None:
    """Both builders on every article of the packaged corpus: every pair is checked; counts per type."""
    counts, laws, usable = build_all(reference_corpus)
    print(dict(sorted(counts.items())), f"{len(laws)} of {usable} laws")
    # measured on the snapshot: thousands of each main kind; the rare kinds in the hundreds
    for kind in ("plazo", "autoridad"):
        assert counts[f"legal_qa.{kind}"] > 2000 and counts[f"legal_mcqa.{kind}"] > 1000
    for kind in ("cuantia", "sancion"):
        assert counts[f"legal_qa.{kind}"] > 100 and counts[f"legal_mcqa.{kind}"] > 50
    assert counts["legal_mcqa.lista"] > 200 and counts["legal_qa.definicion"] > 100
    assert len(laws) >= usable - 10
