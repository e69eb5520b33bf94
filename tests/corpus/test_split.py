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


def test_heldout_fingerprint_follows_the_item_files(tmp_path: Path, task: Path) -> None:
    before = heldout_ids(["task"], tmp_path)[1]["task"]
    manifest = task / "data" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"]["ppl.jsonl"]["sha256"] = "y"
    manifest.write_text(json.dumps(data))
    assert heldout_ids(["task"], tmp_path)[1]["task"] != before


def test_shipped_task_data_matches_the_packaged_corpus(write_spec, registry, tiny_model, tmp_path: Path) -> None:
    """Every held-out id of ``mx_legal`` names an article the packaged corpus pipeline produces today.

    The frozen items are built from the dedup output (``harness tasks build --articles``); a change to
    a cleaner or the structurer that renames articles must come with rebuilt task data.
    """
    from harness.corpus.stages import corpus_stages
    from harness.evaluation.taskdata import heldout_article_ids
    from harness.spec.load import load_spec

    spec = write_spec(
        "  sources: [snapshot]\n"
        "  cleaners: [unicode_repair, page_furniture, reform_notes, unwrap_lines, numeric_tables, quality]\n"
        "  structurer: mx_articles\n"
        "  dedup: [exact, {name: minhash, options: {threshold: 0.9}}]"
    )
    stages = corpus_stages(load_spec(spec, profile="cpu"), registry, tiny_model)
    outputs: dict[str, Path] = {}
    for name in ("source", "clean", "structure", "dedup"):
        stage = stages[name]
        ctx = StageContext(name, tmp_path / name, tmp_path / "scratch" / name, tmp_path)
        ctx.workdir.mkdir(parents=True)
        stage.execute(ctx, {role: outputs[up.name] for role, up in stage.inputs.items()})
        outputs[name] = ctx.workdir
    produced = {a.article_id for a in load_articles(outputs["dedup"] / "articles.parquet")}
    heldout = heldout_article_ids()
    assert len(heldout) > 3000
    assert sorted(heldout - produced) == []
