"""Filters and budget: duplicates, lengths, extractive answers, caps, language, mix trimming."""

from __future__ import annotations

from harness.components import InstructionPair
from harness.instructions.budget import allocate, normalized_mix, trim_to_mix
from harness.instructions.filters import apply_filters
from harness.instructions.text import guess_language
from harness.spec.instructions import FiltersSection

ARTICLE = (
    "Los trabajadores tendrán derecho a un periodo anual de vacaciones pagadas, que en ningún caso podrá ser "
    "inferior a seis días laborables, y que aumentará en dos días laborables hasta llegar a doce."
)


def make(
    instruction: str, response: str, task: str = "qa", label: str = "1", context: str = ARTICLE
) -> InstructionPair:
    return InstructionPair(instruction, response, task, "LFT", label, "g", "t", context)


def test_exact_duplicates_ignore_case_and_spacing() -> None:
    pairs = [
        make("¿Cuántos días de vacaciones?", "Seis días."),
        make("¿cuántos  días de VACACIONES?", "seis días"),
    ]
    kept, removed = apply_filters(pairs, FiltersSection())
    assert len(kept) == 1 and removed["exact_duplicate"] == 1


def test_near_duplicates_removed_but_different_questions_on_one_article_kept() -> None:
    question = (
        "Según el artículo 76 de la Ley Federal del Trabajo, ¿cuál es el periodo mínimo de vacaciones "
        "pagadas que corresponde a los trabajadores?"
    )
    answer = "El periodo anual de vacaciones pagadas no podrá ser inferior a seis días laborables."
    pairs = [
        make(question, answer),
        make(question.replace("¿cuál", "¿Cuál"), answer + " "),  # exact after normalisation
        make(question.replace("mínimo", "minimo"), answer),  # one word differs: near duplicate
        make("¿Hasta cuántos días aumentan las vacaciones?", "Hasta doce días laborables."),
        make("¿Son pagadas las vacaciones?", "Sí, son pagadas."),
    ]
    kept, removed = apply_filters(pairs, FiltersSection(max_per_article=0))
    assert [p.response for p in kept] == [answer, "Hasta doce días laborables.", "Sí, son pagadas."]
    assert removed["exact_duplicate"] == 1 and removed["near_duplicate"] == 1
    kept, removed = apply_filters(pairs, FiltersSection(near_dedup=False, max_per_article=0))
    assert len(kept) == 4 and "near_duplicate" not in removed


def test_same_question_on_a_different_article_is_kept() -> None:
    other = "Los patrones deberán pagar a los trabajadores una prima no menor de veinticinco por ciento."
    pairs = [
        make("Resume el artículo en un título.", "De las vacaciones"),
        make("Resume el artículo en un título.", "De las vacaciones", label="2", context=other),
    ]
    kept, _ = apply_filters(pairs, FiltersSection())
    assert len(kept) == 2


def test_length_bounds_and_extractive_answers() -> None:
    settings = FiltersSection(min_instruction_chars=5, max_response_chars=40)
    pairs = [
        make("¿?", "x"),
        make("Pregunta larga suficiente", "y" * 41),
        make("¿Qué periodo mínimo fija?", "seis días laborables", task="exqa"),
        make("¿Qué periodo mínimo fija?", "siete días laborables", task="exqa"),
        make("¿Qué periodo\nmínimo?", "inferior a seis\n días", task="exqa", label="2"),
    ]
    kept, removed = apply_filters(pairs, settings)
    assert [p.response for p in kept] == ["seis días laborables", "inferior a seis\n días"]
    assert removed == {"instruction_length": 1, "response_length": 1, "answer_not_in_context": 1}


def test_per_article_cap() -> None:
    pairs = [make(f"Pregunta número {i} sobre vacaciones", f"Respuesta {i}") for i in range(6)]
    kept, removed = apply_filters(pairs, FiltersSection(max_per_article=4, near_dedup=False))
    assert len(kept) == 4 and removed["per_article_cap"] == 2


def test_spanish_only() -> None:
    pairs = [
        make("Which is the minimum holiday period for the workers?", "It is six working days of the year."),
        make("¿Cuál es el periodo mínimo de vacaciones?", "Es de seis días laborables."),
    ]
    kept, removed = apply_filters(pairs, FiltersSection(spanish_only=True))
    assert len(kept) == 1 and removed["not_spanish"] == 1
    assert guess_language(pairs[0].instruction + pairs[0].response) == "en"
    assert guess_language(ARTICLE) == "es"


def test_allocate_sums_exactly_and_follows_weights() -> None:
    counts = allocate(
        1000,
        {
            "exqa": 0.2,
            "ynqa": 0.15,
            "mcqa": 0.15,
            "qa": 0.1,
            "summarization": 0.15,
            "topic_class": 0.1,
            "sent_comp": 0.15,
        },
    )
    assert sum(counts.values()) == 1000 and counts["exqa"] == 200 and counts["qa"] == 100
    assert sum(allocate(7, {"a": 1, "b": 1, "c": 1}).values()) == 7
    assert allocate(5, {"a": 0, "b": 1}) == {"a": 0, "b": 5}
    assert normalized_mix({}, ["a", "b"]) == {"a": 0.5, "b": 0.5}


def test_trim_to_mix_fills_shortfall_from_other_types() -> None:
    pairs = [make(f"q{i}", "r", task="a") for i in range(10)] + [make(f"p{i}", "r", task="b") for i in range(2)]
    out = trim_to_mix(pairs, 8, {"a": 0.5, "b": 0.5})
    assert len(out) == 8
    assert sum(p.task_type == "b" for p in out) == 2  # all it had
    assert out == [p for p in pairs if p in out]  # original order kept


def test_a_planted_reform_note_never_reaches_a_response() -> None:
    noted = ARTICLE + "\nPárrafo reformado DOF 12-06-2015"
    pairs = [
        make("Transcribe el artículo 76 de la Ley Federal del Trabajo.", noted, task="transcribe", context=""),
        make("¿Qué dispone el artículo 76?", "Artículo original DOF 05-02-1917. " + ARTICLE, label="2"),
        make("¿Qué dispone el artículo 77?", ARTICLE + "\nCÁMARA DE DIPUTADOS DEL H. CONGRESO DE LA UNIÓN", label="3"),
        make("¿Qué dispone el artículo 78?", ARTICLE + "\n12 de 340", label="4"),
        make("¿Cuántos días de vacaciones corresponden como mínimo?", "Seis días laborables.", label="5"),
    ]
    kept, removed = apply_filters(pairs, FiltersSection())
    assert [p.article_label for p in kept] == ["5"] and removed["reform_note_in_response"] == 4
