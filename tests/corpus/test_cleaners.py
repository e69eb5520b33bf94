"""The cleaners on a small law in pdftotext layout."""

from __future__ import annotations

from harness.components import Document, Dropped
from harness_plugins.corpus.cleaners import (
    NumericTables,
    PageFurniture,
    Quality,
    ReformNotes,
    UnicodeRepair,
    UnwrapLines,
)
from tests.corpus.conftest import TITLE


def _doc(text: str) -> Document:
    return Document(id="prueba", title=TITLE, category="ley", text=text)


def test_page_furniture_removes_headers_and_footers_and_rejoins(sample_law: str) -> None:
    result = PageFurniture().clean(_doc(sample_law))
    text = result.document.text
    assert "CÁMARA DE DIPUTADOS" not in text
    assert "Secretaría General" not in text
    assert "Última Reforma DOF" not in text
    assert "1 de 2" not in text and "2 de 2" not in text
    # the sentence broken by the page break continues on the next line, no blank line between
    assert "determine el\nreglamento respectivo" in text
    assert result.removed["footer_lines"] == 2
    assert result.removed["header_lines"] >= 10


def test_reform_notes_leave_text_and_are_anchored(sample_law: str) -> None:
    doc = PageFurniture().clean(_doc(sample_law)).document
    result = ReformNotes().clean(doc)
    assert "reformado DOF" not in result.document.text
    notes = result.document.metadata["reform_notes"]
    assert [n for _, n in notes] == [
        "Párrafo reformado DOF 10-06-2011",
        "Fracción adicionada DOF 01-05-2019",
        "Artículo derogado DOF 01-05-2019",
    ]
    assert [k for k, _ in notes] == [1, 2, 3]  # after the 1st, 2nd and 3rd article heading
    assert result.removed == {"reform_notes": 3}


def test_reform_note_continuation_lines_are_kept_with_the_note() -> None:
    text = "Artículo 1.- Texto.\nPárrafo reformado DOF 04-12-2006, 10-06-2011,\n01-01-2015\nOtro párrafo."
    result = ReformNotes().clean(_doc(text))
    assert result.document.metadata["reform_notes"] == [[1, "Párrafo reformado DOF 04-12-2006, 10-06-2011, 01-01-2015"]]
    assert result.document.text == "Artículo 1.- Texto.\nOtro párrafo."


def test_unwrap_joins_wraps_and_keeps_fracciones(sample_law: str) -> None:
    doc = ReformNotes().clean(PageFurniture().clean(_doc(sample_law)).document).document
    text = UnwrapLines().clean(doc).document.text
    lines = text.split("\n")
    assert (
        "Artículo 1o.- Esta Ley es de orden público y tiene por objeto regular las pruebas del corpus que se hacen en todo el territorio nacional."
        in lines
    )
    assert "I. Corpus: el conjunto de leyes;" in lines
    assert "II. Artículo: la unidad del texto legal." in lines
    # the page break fell mid-sentence: one paragraph again
    assert any(
        line.endswith("en el orden que determine el reglamento respectivo, sin excepción alguna.") for line in lines
    )
    # a wrapped cross-reference is not a heading: it joins the sentence before it
    assert any("conforme a lo dispuesto en el Artículo 27 de esta Ley" in line for line in lines)
    assert "TÍTULO PRIMERO" in lines and "Disposiciones Generales" in lines


def test_unwrap_keeps_a_wrapped_number_in_its_sentence() -> None:
    text = "Artículo 474.- Se observará lo dispuesto en el artículo\n457.\nArtículo 475.- El padre."
    lines = UnwrapLines().clean(_doc(text)).document.text.split("\n")
    assert lines == ["Artículo 474.- Se observará lo dispuesto en el artículo 457.", "Artículo 475.- El padre."]


def test_unicode_repair_fixes_mojibake_and_normalises() -> None:
    text = "La Constituci\u00c3\u00b3n Pol\u00c3\u00adtica\nArti\u0301culo 1o.- Texto\u00ad con guio\u0301n\x0c"
    result = UnicodeRepair().clean(_doc(text))
    assert result.document.text == "La Constitución Política\nArtículo 1o.- Texto con guión"
    assert result.removed["mojibake_lines"] == 1


def test_numeric_tables_drops_table_runs_only() -> None:
    table = "\n".join(["0302.47.01", "Kg", "15", "Ex.", "0302.49.99", "Kg", "20", "Ex."])
    text = f"Artículo 1.- La tarifa es la siguiente:\n{table}\nArtículo 2.- Las cuotas se pagarán en 2021."
    result = NumericTables().clean(_doc(text))
    assert (
        result.document.text == "Artículo 1.- La tarifa es la siguiente:\nArtículo 2.- Las cuotas se pagarán en 2021."
    )
    assert result.removed == {"table_lines": 8, "table_runs": 1}


def test_quality_drops_short_and_non_letter_documents() -> None:
    assert isinstance(Quality().clean(_doc("Artículo 1.- Corto.")).document, Dropped)
    numbers = Quality().clean(_doc("12.5 33.1 0.44 " * 50)).document
    assert isinstance(numbers, Dropped) and "letter ratio" in numbers.reason
    prose = _doc("Artículo 1.- Esta Ley regula las pruebas del corpus en todo el territorio. " * 5)
    assert Quality().clean(prose).document is prose
    options = Quality.Options(min_chars=10)
    assert not isinstance(Quality(options).clean(_doc("Artículo 1.- Corto.")).document, Dropped)


def test_unwrap_does_not_break_after_titles() -> None:
    text = (
        "Ciudad de México, a 25 de febrero de 2020.- Sen. Mónica Fernández, Presidenta.- Dip.\nLaura Rojas, Presidenta."
    )
    lines = UnwrapLines().clean(_doc(text)).document.text.split("\n")
    assert lines == [text.replace("\n", " ")]
