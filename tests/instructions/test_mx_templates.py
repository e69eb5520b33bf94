"""``mx_templates``: task types, phrasing variety, determinism, extractive answers, skipped articles."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from harness.components import Article
from harness.instructions.budget import normalized_mix
from harness_plugins.instructions.facts import ArticleFacts, heading_name, title_case
from harness_plugins.instructions.mx_templates import MxTemplates, TemplateOptions

from .conftest import make_ctx

MIX = normalized_mix({}, MxTemplates.task_types)


def run(articles: list[Article], tmp_path: Path, budget: int = 400, seed: int = 0, mix: dict | None = None):
    gen = MxTemplates()
    return list(gen.generate(articles, budget, mix or MIX, make_ctx(tmp_path, seed))), gen


def test_all_task_types_with_several_phrasings(law_articles: list[Article], tmp_path: Path) -> None:
    pairs, gen = run(law_articles, tmp_path)
    assert len(pairs) == 400
    counts = Counter(p.task_type for p in pairs)
    assert set(counts) == set(MxTemplates.task_types) and len(counts) >= 6
    assert all(abs(n - 400 / len(MIX)) <= 2 for n in counts.values()), counts
    phrasings = defaultdict(set)
    for p in pairs:
        phrasings[p.task_type].add(p.template_or_model)
    assert all(len(ids) >= 3 for ids in phrasings.values()), phrasings
    assert {p.language for p in pairs} == {"es"} and {p.generator for p in pairs} == {"mx_templates"}
    assert gen.stats["articles_used"] > 200


def test_deterministic_by_seed(law_articles: list[Article], tmp_path: Path) -> None:
    first, _ = run(law_articles, tmp_path, budget=120, seed=3)
    again, _ = run(law_articles, tmp_path, budget=120, seed=3)
    other, _ = run(law_articles, tmp_path, budget=120, seed=4)
    assert first == again
    assert first != other


def test_mix_is_followed(law_articles: list[Article], tmp_path: Path) -> None:
    pairs, _ = run(law_articles, tmp_path, budget=100, mix={"exqa": 0.7, "summarization": 0.3})
    assert Counter(p.task_type for p in pairs) == {"exqa": 70, "summarization": 30}


def test_extractive_answers_occur_in_context(law_articles: list[Article], tmp_path: Path) -> None:
    pairs, _ = run(law_articles, tmp_path, budget=200, mix={"exqa": 1.0})
    assert len(pairs) == 200
    for p in pairs:
        assert " ".join(p.response.split()) in " ".join(p.context.split())
    kinds = Counter(p.template_or_model.split(".")[1] for p in pairs)
    assert kinds["fraccion"] > 0 and len(kinds) >= 2


def test_pairs_are_consistent_with_their_article(law_articles: list[Article], tmp_path: Path) -> None:
    # the quick extractor can give two articles one label ("15" and "15-A"): keep all
    texts: dict[tuple[str, str], str] = defaultdict(str)
    titles = {}
    for a in law_articles:
        texts[(a.law_id, a.label)] += a.text + "\n"
        titles[a.law_id] = a.law_title
    pairs, _ = run(law_articles, tmp_path, budget=400)
    for p in pairs:
        if p.task_type == "topic_class" and p.template_or_model.startswith("topic_class.ley"):
            assert p.response == title_case(titles[p.law_id])
        if p.task_type == "mcqa":
            letter = p.response[0]
            assert f"\n{letter}) {p.response[3:]}" in "\n" + p.instruction
        if p.task_type == "sent_comp" and p.article_label:
            assert p.response.split()[-1] in texts[(p.law_id, p.article_label)]


def test_derogated_short_and_transitory_articles_are_skipped(tmp_path: Path) -> None:
    base = dict(
        law_id="L",
        law_title="LEY DE PRUEBA",
        category="ley",
        number=1,
        path=["CAPÍTULO I Disposiciones Generales"],
    )
    text = (
        "Las autoridades deberán publicar sus resoluciones en el Diario Oficial de la Federación "
        "dentro de quince días hábiles."
    )
    articles = [
        Article(part="body", label="1o", text=text, **base),
        Article(part="body", label="2o", text="Se deroga.", derogated=True, **base),
        Article(part="body", label="3o", text="Breve.", **base),
        Article(part="transitorio", label="Primero", text=text + " Transitorio.", **base),
    ]
    pairs, gen = run(articles, tmp_path, budget=20, mix={"exqa": 1.0})
    assert {p.article_label for p in pairs} == {"1o"}
    assert gen.stats["articles_skipped"] == 3
    # one usable article, revisited max_passes (3) times; its only extractive span is the deadline
    assert len(pairs) == 3 and gen.stats["short_exqa"] == 17
    assert all(p.template_or_model.startswith("exqa.plazo") and p.response == "quince días hábiles" for p in pairs)
    gen2 = MxTemplates(TemplateOptions(parts=["body", "transitorio"]))
    labels = {p.article_label for p in gen2.generate(articles, 20, {"qa": 1.0}, make_ctx(tmp_path))}
    assert labels == {"1o", "Primero"}


def test_facts_helpers() -> None:
    assert title_case("LEY FEDERAL DEL TRABAJO") == "Ley Federal del Trabajo"
    assert title_case("Ley de Amparo") == "Ley de Amparo"
    assert heading_name("CAPÍTULO I De los Derechos Humanos") == "De los Derechos Humanos"
    assert heading_name("Título Primero") == "Título Primero"
    assert heading_name("CAPITULO II — TERMINALES DE PASAJEROS") == "TERMINALES DE PASAJEROS"
    article = Article(
        "L",
        "CÓDIGO CIVIL FEDERAL",
        "codigo",
        "body",
        "5o",
        5,
        [],
        "Artículo 5o.- Para los efectos de este Código se entenderá por:\nI. Autoridad: La autoridad "
        "competente del lugar;\nII. Plazo: treinta días naturales.",
    )
    facts = ArticleFacts(article)
    assert facts.de_law == "del Código Civil Federal"
    amparo = Article(
        "LAmp",
        "LEY DE AMPARO, REGLAMENTARIA DE LOS ARTÍCULOS 103 Y 107 DE LA CONSTITUCIÓN",
        "ley",
        "body",
        "1o",
        1,
        [],
        "x",
    )
    assert ArticleFacts(amparo).de_law == "de la Ley de Amparo"
    assert facts.body.startswith("Para los efectos")
    assert facts.fracciones[0] == ("I", "Autoridad: La autoridad competente del lugar;")
    assert ("Autoridad", "La autoridad competente del lugar;") in facts.definitions


@pytest.mark.slow
def test_no_response_on_the_whole_corpus_carries_reform_notes(reference_corpus: list[Article], tmp_path: Path) -> None:
    """Every law of the packaged corpus through the templates and the filters: no kept response
    holds a DOF annotation or page furniture (the cleaner moves them out; the filter backs it up)."""
    from harness.instructions.filters import apply_filters, carries_annotations
    from harness.spec.instructions import FiltersSection

    pairs, _ = run(reference_corpus, tmp_path, budget=20000)
    raw = sum(carries_annotations(p.response) for p in pairs)
    kept, removed = apply_filters(pairs, FiltersSection())
    assert len({p.law_id for p in kept}) >= 250 and len(kept) > 5000
    assert sum(carries_annotations(p.response) for p in kept) == 0
    assert removed["reform_note_in_response"] <= raw  # counted (earlier filters may take some first)
