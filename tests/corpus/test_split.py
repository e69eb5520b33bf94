"""Held-out evaluation text never reaches training: by id, and by text under another id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.components import Article
from harness.context import StageContext
from harness.corpus.io import load_articles, write_articles
from harness.corpus.split import heldout_ids, run_split
from harness.spec.corpus import SplitSection

HELD = (
    "La Comisión podrá, atendiendo a las circunstancias de cada caso, imponer multas a las entidades "
    "que incumplan las disposiciones de esta Ley y de las reglas que de ella emanen, previa audiencia."
)
OTHER = (
    "Los senadores o el personal de apoyo no pueden aceptar dádivas o pagos en efectivo o en especie "
    "por parte de persona alguna con motivo del ejercicio de sus funciones legislativas."
)


def _article(article_id: str, text: str) -> Article:
    law, part, label = article_id.split("::")
    return Article(
        law_id=law, law_title=f"Ley {law}", category="ley", part=part, label=label, number=1, path=[], text=text
    )


@pytest.fixture
def task(tmp_path: Path) -> Path:
    """A task folder whose frozen items hold ``HELD`` as the text of article ``a::body::1``."""
    data = tmp_path / "task" / "data"
    data.mkdir(parents=True)
    (data / "ppl.jsonl").write_text(json.dumps({"id": "ppl-0", "article_id": "a::body::1", "text": HELD}) + "\n")
    manifest = {"heldout_article_ids": ["a::body::1"], "files": {"ppl.jsonl": {"items": 1, "sha256": "x"}}}
    (data / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path / "task"


def _split(tmp_path: Path, articles: list[Article], run: str = "run", **options) -> tuple[dict, set[str]]:
    source = tmp_path / run / "dedup"
    source.mkdir(parents=True)
    write_articles(source / "articles.parquet", articles)
    work = tmp_path / run / "out"
    work.mkdir()
    ctx = StageContext("split", work, tmp_path / "scratch", tmp_path)
    record = run_split(ctx, source, SplitSection(validation_fraction=0.0, **options), 0, ["task"])
    return record, {a.article_id for a in load_articles(work / "train.parquet")}


def test_heldout_text_under_another_id_is_excluded(tmp_path: Path, task: Path) -> None:
    # the same article in a sister law (a near duplicate dedup kept), with a small edit and a prefix
    near = "1. " + HELD.replace("previa audiencia", "previa audiencia del interesado")
    articles = [
        _article("a::body::1", HELD),  # excluded by id
        _article("b::body::7", near),  # excluded by text
        _article("c::body::2", OTHER),  # unrelated: kept
        _article("d::body::3", OTHER + " " + HELD[:120]),  # shares a little: kept
    ]
    record, train = _split(tmp_path, articles)
    assert train == {"c::body::2", "d::body::3"}
    assert (record["heldout_excluded_by_id"], record["heldout_excluded_by_text"]) == (1, 1)
    assert record["heldout_excluded"] == 2


def test_text_check_can_be_turned_off_and_tightened(tmp_path: Path, task: Path) -> None:
    articles = [_article("b::body::7", "1. " + HELD), _article("d::body::3", OTHER + " " + HELD[:120])]
    _, train = _split(tmp_path, articles, "off", heldout_overlap=None)
    assert train == {"b::body::7", "d::body::3"}
    _, train = _split(tmp_path, articles, "tight", heldout_overlap=0.05)
    assert train == set()


def test_legal_qa_articles_stay_in_dapt_but_not_in_sft(tmp_path: Path, task: Path) -> None:
    """A file excluded from ``sft`` only (the legal-QA items, with their article text) neither
    drops its articles from the DAPT split nor counts as held-out text; instruction generation
    gets its ids."""
    data = task / "data"
    (data / "legal_qa.jsonl").write_text(json.dumps({"id": "q", "article_id": "c::body::2", "article": OTHER}) + "\n")
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["files"]["legal_qa.jsonl"] = {"items": 1, "sha256": "z", "excluded_from": ["sft"]}
    manifest["sft_excluded_article_ids"] = ["c::body::2"]
    (data / "manifest.json").write_text(json.dumps(manifest))
    _, train = _split(tmp_path, [_article("a::body::1", HELD), _article("c::body::2", OTHER)])
    assert train == {"c::body::2"}
    assert heldout_ids(["task"], tmp_path)[0] == {"a::body::1"}
    assert heldout_ids(["task"], tmp_path, "sft")[0] == {"a::body::1", "c::body::2"}
    # the DAPT split's key does not follow the legal-QA file; instruction generation's does
    before = {t: heldout_ids(["task"], tmp_path, t)[1]["task"] for t in ("dapt", "sft")}
    manifest["files"]["legal_qa.jsonl"]["sha256"] = "w"
    (data / "manifest.json").write_text(json.dumps(manifest))
    after = {t: heldout_ids(["task"], tmp_path, t)[1]["task"] for t in ("dapt", "sft")}
    assert after["dapt"] == before["dapt"] and after["sft"] != before["sft"]


def test_dapt_focus_puts_the_legal_qa_articles_or_laws_first(tmp_path: Path, task: Path) -> None:
    data = task / "data"
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["sft_excluded_article_ids"] = ["q::body::3"]
    (data / "manifest.json").write_text(json.dumps(manifest))
    articles = [_article(f"{law}::body::{i}", f"{OTHER} {law} {i}") for law in "pqr" for i in range(1, 6)]

    def dapt_laws(run: str, **options) -> tuple[list[str], dict]:
        record, _ = _split(tmp_path, articles, run, **options)
        texts = (tmp_path / run / "out" / "dapt_train.jsonl").read_text().splitlines()
        return [json.loads(t)["text"].split("\n")[0] for t in texts], record

    plain, record = dapt_laws("plain")
    assert record["dapt_focus_articles"] == 0 and len(plain) == 15
    first, record = dapt_laws("articles", dapt_focus="articles")
    assert record["dapt_focus_articles"] == 1 and first[0] == "Ley q" and sorted(first) == sorted(plain)
    by_law, record = dapt_laws("laws", dapt_focus="laws")
    assert record["dapt_focus_articles"] == 5 and by_law[:5] == ["Ley q"] * 5


def test_heldout_fingerprint_follows_the_item_files(tmp_path: Path, task: Path) -> None:
    before = heldout_ids(["task"], tmp_path)[1]["task"]
    manifest = task / "data" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"]["ppl.jsonl"]["sha256"] = "y"
    manifest.write_text(json.dumps(data))
    assert heldout_ids(["task"], tmp_path)[1]["task"] != before


@pytest.mark.slow
def test_shipped_task_data_matches_the_packaged_corpus(reference_corpus) -> None:
    """Every held-out id of ``mx_legal`` names an article the packaged corpus pipeline produces today.

    The frozen items are built from the dedup output (``harness tasks build``); a change to a cleaner
    or the structurer that renames articles must come with rebuilt task data.
    """
    from harness.evaluation.taskdata import heldout_article_ids

    produced = {a.article_id for a in reference_corpus}
    heldout = heldout_article_ids()
    assert len(heldout) > 3000
    assert sorted(heldout - produced) == []
