"""The Mexican-law article parser: sample law, property tests, and the acceptance laws."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.components import Document
from harness_plugins.corpus.cleaners import NumericTables, PageFurniture, ReformNotes, UnicodeRepair, UnwrapLines
from harness_plugins.corpus.patterns import FOOTER, HEADER_CHAMBER, HEADER_DOF, article_heading, heading_label
from harness_plugins.corpus.structure import MxArticles, ordinal_value
from tests.corpus.conftest import TITLE

# no quality filter: the property tests feed short texts
CLEANERS = [UnicodeRepair(), PageFurniture(), ReformNotes(), UnwrapLines(), NumericTables()]


def clean(doc: Document) -> Document:
    """Run the default cleaner chain."""
    for cleaner in CLEANERS:
        doc = cleaner.clean(doc).document  # type: ignore[assignment]
    return doc


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("Artículo 1o.- En los Estados", "1o"),
        ("Artículo 1o. En los Estados", "1o"),
        ("ARTICULO 10 BIS.- Texto", "10 Bis"),
        ("Artículo 3o. Ter.- Para", "3o Ter"),
        ("Artículo 153-F Bis. Los patrones", "153-F Bis"),
        ("Artículo 1,000.- Los", "1000"),
        ("Art. 5º.- Texto", "5o"),
        ("Artículo 26.", "26"),
        ("ARTÍCULO 2 Quáter.- Texto", "2 Quáter"),
        ("Artículo 45 Bis-4.- Las", "45 Bis 4"),
        ("Artículo 31-A-1. Por", "31-A-1"),
    ],
)
def test_heading_labels(line: str, label: str) -> None:
    match = article_heading(line)
    assert match is not None and heading_label(match) == label


@pytest.mark.parametrize(
    "line", ["Artículo 27 de esta Constitución", "artículo 100.", "Artículo reformado DOF 14-08-2001"]
)
def test_not_headings(line: str) -> None:
    assert article_heading(line) is None


def test_ordinal_values() -> None:
    assert ordinal_value("Décimo Segundo") == 12
    assert ordinal_value("Decimocuarto") == 14
    assert ordinal_value("Único") == 1


def test_sample_law_structure(sample_law: str) -> None:
    doc = clean(Document("prueba", TITLE, "ley", sample_law))
    articles = MxArticles().structure(doc)
    body = [a for a in articles if a.part == "body"]
    assert [a.label for a in body] == ["1o", "2o", "3", "3 Bis", "4"]
    first = body[0]
    assert first.path == ["TÍTULO PRIMERO — Disposiciones Generales", "Capítulo I — Del Objeto"]
    assert first.text.startswith("Esta Ley es de orden público")
    assert first.reform_notes == ["Párrafo reformado DOF 10-06-2011"]
    assert body[1].text.split("\n") == [
        "Para los efectos de esta Ley se entiende por:",
        "I. Corpus: el conjunto de leyes;",
        "II. Artículo: la unidad del texto legal.",
    ]
    assert body[2].derogated and not body[0].derogated
    assert body[4].path == ["TÍTULO PRIMERO — Disposiciones Generales", "CAPÍTULO II — DE LAS SANCIONES"]
    assert "Artículo 27 de esta Ley" in body[4].text
    transitorios = [a for a in articles if a.part == "transitorio"]
    assert [a.label for a in transitorios] == ["Primero", "Segundo"]
    decree = [a for a in articles if a.part == "decree_transitorio"]
    assert [a.label for a in decree] == ["D1 Único", "D1 Único (2)"]
    assert len({a.article_id for a in articles}) == len(articles)


law_lines = st.lists(
    st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            [
                "Artículo 1o.- A",
                "TRANSITORIOS",
                "Capítulo I",
                "Primero.- x",
                "ARTÍCULOS TRANSITORIOS DE DECRETOS DE REFORMA",
                "Artículo 2 Bis. b",
                "Párrafo reformado DOF 01-01-2000",
                "I.",
                "",
                "1 de 3",
                "DECRETO x",
            ]
        ),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(law_lines)
def test_parser_never_crashes(lines: list[str]) -> None:
    doc = clean(Document("x", "LEY X", "ley", "\n".join(lines) + "\n" + "palabra " * 40))
    for article in MxArticles().structure(doc):
        assert article.part in ("body", "transitorio", "decree_transitorio")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3), st.sampled_from(["", " Bis", " Ter"]), st.text("abcdefgh ", min_size=1, max_size=40)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_body_labels_in_order(steps: list[tuple[int, str, str]]) -> None:
    number, lines, expected = 0, [], []
    for gap, suffix, words in steps:
        number += gap
        lines.append(f"Artículo {number}{suffix}.- Texto {words}.")
        expected.append(f"{number}{suffix}")
    doc = clean(Document("x", "LEY X", "ley", "LEY X\n" + "\n".join(lines)))
    body = [a for a in MxArticles().structure(doc) if a.part == "body"]
    assert [a.label for a in body] == expected
    assert [a.number for a in body] == sorted(a.number for a in body)


def _law(raw: Path, file: str) -> Document:
    import csv

    with (raw / "manifest.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["file"].endswith(file))
    return Document(Path(file).stem, row["title"], row["category"], (raw / row["file"]).read_text(encoding="utf-8"))


def _no_furniture(articles: list) -> None:
    for article in articles:
        for line in article.text.split("\n"):
            s = line.strip()
            assert s != HEADER_CHAMBER and s not in ("Secretaría General", "Secretaría de Servicios Parlamentarios")
            assert not HEADER_DOF.match(s) and not FOOTER.match(s), (article.article_id, s)


def test_constitution_has_136_body_articles(raw_corpus: Path) -> None:
    articles = MxArticles().structure(clean(_law(raw_corpus, "1_280521.txt")))
    body = [a for a in articles if a.part == "body"]
    assert [a.label for a in body] == [f"{n}o" for n in range(1, 10)] + [str(n) for n in range(10, 137)]
    assert not any(article_heading(line) for a in body for line in a.text.split("\n"))
    assert sum(len(a.reform_notes) for a in articles) > 700
    _no_furniture(articles)


def test_ley_federal_del_trabajo_numbered_and_bis_articles(raw_corpus: Path) -> None:
    articles = MxArticles().structure(clean(_law(raw_corpus, "125_310721.txt")))
    body = [a for a in articles if a.part == "body"]
    numbered = [a for a in body if re.fullmatch(r"\d+o?", a.label)]
    assert sorted(a.number for a in numbered) == list(range(1, 1011))
    labels = {a.label for a in body}
    assert {"3o Bis", "3o Ter", "22 Bis", "153-F Bis", "1004-A", "353-Ñ"} <= labels
    assert len(body) == len(labels)
    assert not any(article_heading(line) for a in body for line in a.text.split("\n"))
    _no_furniture(articles)


def test_full_raw_corpus_acceptance(raw_corpus: Path, tmp_path: Path) -> None:
    """313 laws in; no running header or 'N de M' line in any article; ~27,000 reform notes kept."""
    from harness.context import StageContext
    from harness_plugins.corpus.cleaners import Quality
    from harness_plugins.corpus.sources import RawTxt

    ctx = StageContext("source", tmp_path, tmp_path, tmp_path)
    laws = notes = 0
    for doc in RawTxt(RawTxt.Options(path=str(raw_corpus))).documents(ctx):
        cleaned = Quality().clean(clean(doc)).document
        assert isinstance(cleaned, Document), doc.id
        articles = MxArticles().structure(cleaned)
        assert any(a.part == "body" for a in articles), doc.id
        _no_furniture(articles)
        laws += 1
        notes += sum(len(a.reform_notes) for a in articles)
    assert laws == 313
    assert 26_000 < notes < 30_000
