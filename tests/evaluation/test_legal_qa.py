"""The hand-written legal-QA items: source checks, the shipped set's balance and baselines, and its
supports against the packaged corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.components import Article
from harness.errors import DataError
from harness.evaluation import legal_qa as lq
from harness.evaluation import taskdata
from harness.instructions.text import normalize

ARTICLE = Article(
    law_id="prueba",
    law_title="LEY DE PRUEBA",
    category="ley",
    part="body",
    label="5",
    number=5,
    path=[],
    text="El plazo para interponer el recurso será de quince días hábiles.\nLa autoridad resolverá en treinta días.",
)
GOOD = """\
law_id: prueba
law_title: LEY DE PRUEBA
items:
  - id: prueba-5-plazo
    article: "5"
    kind: plazo
    question: "Según la Ley de Prueba, ¿en qué plazo se interpone el recurso?"
    choices: [quince días hábiles, treinta días, diez días hábiles, cinco días]
    answer_index: 0
    support: "El plazo para interponer el recurso será de quince días hábiles."
    short_answer: quince días hábiles
    accept: [15 días hábiles]
"""


def _write(tmp_path: Path, text: str, name: str = "prueba.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_item_verifies_and_freezes(tmp_path: Path) -> None:
    items = lq.read_sources(_write(tmp_path, GOOD).parent)
    lq.verify_against_corpus(items, [ARTICLE], heldout_ids=set())
    (row,) = lq.frozen_rows(items, [ARTICLE])
    assert row["article_id"] == "prueba::body::5" and row["article"] == ARTICLE.text
    assert row["accept"] == ["quince días hábiles", "15 días hábiles"]
    assert row["support"] in row["article"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("answer_index: 0", "answer_index: 4"), "answer_index", "less than or equal to 3"),
        (("cinco días]", "quince días hábiles.]"), "choices", "same once case"),
        (("kind: plazo", "kind: plazos"), "kind", "Input should be"),
        (("    short_answer: quince días hábiles\n", ""), "accept", "accept needs short_answer"),
        (("¿en qué plazo se interpone el recurso?", "el plazo del recurso"), "question", "'?'"),
        (('article: "5"', 'article: "5"\n    extra: 1'), "extra", "Extra inputs"),
    ],
)
def test_bad_source_names_file_line_and_field(tmp_path: Path, change: tuple[str, str], field: str, message: str):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(DataError, match=message) as caught:
        lq.read_law_file(path)
    assert caught.value.file == str(path) and caught.value.line is not None
    assert field in (caught.value.field or "")


@pytest.mark.parametrize(
    ("change", "heldout", "message"),
    [
        (('support: "El plazo', 'support: "El término'), set(), "not an exact substring"),
        (('article: "5"', 'article: "6"'), set(), "no body article '6'"),
        (("law_title: LEY DE PRUEBA", "law_title: LEY DE OTRA PRUEBA"), set(), "law title"),
        ((GOOD[:0], ""), {"prueba::body::5"}, "held out"),
    ],
)
def test_items_that_do_not_match_the_corpus_are_refused(tmp_path: Path, change, heldout: set[str], message: str):
    items = lq.read_sources(_write(tmp_path, GOOD.replace(*change)).parent)
    with pytest.raises(DataError, match=message):
        lq.verify_against_corpus(items, [ARTICLE], heldout)


def test_duplicate_ids_and_questions_across_files_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    _write(tmp_path, GOOD.replace("prueba-5-plazo", "prueba-5-otro"), "otra.yaml")
    with pytest.raises(DataError, match="duplicate question"):
        lq.read_sources(tmp_path)
    _write(tmp_path, GOOD.replace("se interpone", "se presenta"), "otra.yaml")
    with pytest.raises(DataError, match="duplicate id"):
        lq.read_sources(tmp_path)


def test_baselines_break_ties_at_random() -> None:
    row = {"choices": ["aa", "bb", "cc", "dddd"], "answer_index": 0, "question": "¿x?", "article": ""}
    scores = lq.baselines([row])
    assert scores["shortest"] == pytest.approx(1 / 3) and scores["longest"] == 0.0
    assert scores["question_overlap"] == scores["article_overlap"] == pytest.approx(0.25)


# --- the shipped items ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return taskdata.load_items("lqa")


def test_shipped_set_size_and_coverage(rows: list[dict]) -> None:
    laws = Counter(r["law_id"] for r in rows)
    assert len(rows) >= 300 and len(laws) >= 60
    big_codes = {
        "1_280521": "Constitución",
        "125_310721": "Ley Federal del Trabajo",
        "2_110121": "Código Civil Federal",
        "9_010621": "Código Penal Federal",
        "LAmp_070621": "Ley de Amparo",
        "8_310721": "Código Fiscal de la Federación",
        "LGS": "Ley General de Salud",
        "92_310721": "Ley del Seguro Social",
        "3_241220": "Código de Comercio",
        "CNPP_190221": "Código Nacional de Procedimientos Penales",
    }
    assert {code: laws[code] for code in big_codes if laws[code] < 8} == {}
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == set(lq.KINDS)
    assert max(kinds.values()) <= len(rows) / 3
    assert sum(1 for r in rows if r["short_answer"]) >= 150


def test_shipped_answer_positions_and_lengths_are_balanced(rows: list[dict]) -> None:
    balance = lq.balance(rows)
    assert all(abs(share - 0.25) <= 0.02 for share in balance["positions"].values()), balance
    assert 0.20 <= balance["answer_longest"] <= 0.30, balance
    assert 0.20 <= balance["answer_shortest"] <= 0.30, balance


def test_shipped_model_free_baselines_are_near_chance(rows: list[dict]) -> None:
    """Closed- and open-book items are the same questions: every baseline stays at or below 0.35."""
    scores = lq.baselines(rows)
    assert all(score <= 0.35 for score in scores.values()), scores


def test_shipped_items_are_unique_and_their_supports_are_in_their_articles(rows: list[dict]) -> None:
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({normalize(r["question"]) for r in rows}) == len(rows)
    assert [r["id"] for r in rows if r["support"] not in r["article"]] == []
    assert [r["id"] for r in rows if len({normalize(c) for c in r["choices"]}) != 4] == []


def test_frozen_items_are_the_sources(rows: list[dict]) -> None:
    """Editing a source file without ``harness tasks build`` fails here."""
    sources = {s.item.id: s for s in lq.read_sources()}
    assert set(sources) == {r["id"] for r in rows}
    for row in rows:
        item = sources[row["id"]].item
        frozen = (row["question"], row["choices"], row["answer_index"], row["support"], row["short_answer"])
        assert frozen == (item.question, item.choices, item.answer_index, item.support, item.short_answer)


def test_item_articles_stay_in_dapt_and_leave_instruction_generation() -> None:
    manifest = taskdata.read_manifest()
    qa_ids = taskdata.sft_excluded_article_ids()
    assert qa_ids and not qa_ids & taskdata.heldout_article_ids()
    assert manifest["files"]["legal_qa.jsonl"]["excluded_from"] == ["sft"]


@pytest.mark.slow
def test_supports_are_exact_substrings_of_the_packaged_corpus(reference_corpus: list[Article], rows: list[dict]):
    """Every item names a body article the packaged pipeline produces, with the same text, and its
    support is an exact substring of that text."""
    by_id = {a.article_id: a for a in reference_corpus}
    missing = [r["id"] for r in rows if r["article_id"] not in by_id]
    assert missing == []
    assert [r["id"] for r in rows if by_id[r["article_id"]].text != r["article"]] == []
    assert [r["id"] for r in rows if r["support"] not in by_id[r["article_id"]].text] == []
    lq.verify_against_corpus(lq.read_sources(), reference_corpus, taskdata.heldout_article_ids())


def test_tasks_baselines_command(capsys) -> None:
    from harness.cli import main

    assert main(["tasks", "baselines", "--format", "json", "--limit", "mx_legal_qa_open=40"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["mx_legal_qa_open"]["items"] == 40 and table["mx_legal_qa_closed"]["items"] >= 300
    assert "article_overlap" in table["mx_legal_qa_open"] and "article_overlap" not in table["mx_legal_qa_closed"]
    assert table["mx_legal_law_id"]["article_overlap"] > 0.4  # the reason the legal-QA tasks exist
    assert main(["tasks", "baselines", "--limit", "mx_legal_qa_open=0"]) == 2


@pytest.mark.slow
def test_tasks_build_reproduces_the_shipped_data(tmp_path: Path) -> None:
    """``harness tasks build`` with no arguments (the reference pipeline on the packaged snapshot)
    writes exactly the committed files."""
    from harness.cli import main

    assert main(["tasks", "build", "--out", str(tmp_path)]) == 0
    built = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    shipped = taskdata.read_manifest()
    assert built["files"] == shipped["files"]
    assert built["heldout_article_ids"] == shipped["heldout_article_ids"]
    assert built["sft_excluded_article_ids"] == shipped["sft_excluded_article_ids"]
    assert (tmp_path / "legal_qa_review.md").read_bytes() == (taskdata.data_dir() / "legal_qa_review.md").read_bytes()
