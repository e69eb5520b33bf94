"""The six corpus stages end to end (called directly, as the runner does), their keys and files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.components import Article
from harness.context import StageContext
from harness.corpus.blocks import pack
from harness.corpus.io import write_articles
from harness.corpus.stages import corpus_stages, load_articles
from harness.runner.stage import Stage
from harness.spec.load import load_spec

CORPUS = """  sources:
    - name: raw_txt
      options: {{path: raw}}
  cleaners: [unicode_repair, page_furniture, reform_notes, unwrap_lines, {{name: numeric_tables, options: {{min_run: {min_run}}}}}, quality]
  structurer: mx_articles
  dedup: [exact, {{name: minhash, options: {{threshold: 0.8, min_words: 5}}}}]
  split: {{validation_fraction: 0.3, exclude_heldout_from: [heldout_task]}}
  blocks: {{block_size: 32}}"""
ORDER = ("source", "clean", "structure", "dedup", "split", "blocks")


def build(write_spec: Callable[..., Path], registry, model, min_run: int = 6) -> dict[str, Stage]:
    """The corpus stages of a spec over the ``txt_folder`` fixture, with keys computed."""
    loaded = load_spec(write_spec(CORPUS.format(min_run=min_run)), profile="cpu")
    stages = corpus_stages(loaded, registry, model)
    for name in ORDER:
        stages[name].compute_key()
    return stages


def execute(stages: dict[str, Stage], root: Path, base_dir: Path) -> dict[str, Path]:
    """Run the stages in order, each into its own folder, feeding outputs to inputs."""
    outputs: dict[str, Path] = {}
    for name in ORDER:
        stage = stages[name]
        ctx = StageContext(name, root / name, root / "scratch" / name, base_dir)
        ctx.workdir.mkdir(parents=True)
        stage.record = stage.execute(ctx, {role: outputs[up.name] for role, up in stage.inputs.items()})
        json.dumps(stage.record)  # the record must be JSON-able
        outputs[name] = ctx.workdir
    return outputs


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    """A task folder whose frozen data holds out article 2o of the sample law."""
    manifest = tmp_path / "heldout_task" / "data" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"heldout_article_ids": ["prueba::body::2o"]}), encoding="utf-8")
    return manifest


def test_stages_end_to_end(txt_folder: Path, write_spec, registry, tiny_model, heldout: Path, tmp_path: Path) -> None:
    stages = build(write_spec, registry, tiny_model)
    assert {name: stage.inputs.keys() for name, stage in stages.items()}["clean"] == {"documents"}
    out = execute(stages, tmp_path / "out", tmp_path)
    expected = {
        "source": {"documents.parquet", "inputs.json"},
        "clean": {"documents.parquet", "cleaning.json"},
        "structure": {"articles.parquet", "laws.parquet"},
        "dedup": {"articles.parquet", "dedup.json"},
        "split": {
            "train.parquet",
            "validation.parquet",
            "dapt_train.jsonl",
            "dapt_validation.jsonl",
            "corpus_report.md",
            "corpus_report.html",
        },
        "blocks": {"train_blocks.parquet", "validation_blocks.parquet", "blocks.json"},
    }
    for name, files in expected.items():
        assert files <= {p.name for p in out[name].iterdir()}, name
    assert stages["source"].record["documents"] == 2
    cleaning = json.loads((out["clean"] / "cleaning.json").read_text())
    assert cleaning["order"][0] == "unicode_repair" and cleaning["totals"]["page_furniture"]["footer_lines"] == 4
    articles = load_articles(out["structure"])
    assert [a.label for a in articles if a.law_id == "prueba" and a.part == "body"] == ["1o", "2o", "3", "3 Bis", "4"]
    laws = pq.read_table(out["structure"] / "laws.parquet").to_pylist()
    assert laws[0]["id"] == "prueba" and laws[0]["body_articles"] == 5 and laws[0]["reform_notes"] == 3
    dedup = json.loads((out["dedup"] / "dedup.json").read_text())
    assert dedup["steps"][0]["name"] == "exact" and dedup["steps"][0]["clusters"] >= 1  # shared transitorios
    assert len(load_articles(out["dedup"])) < len(articles)
    train, validation = (
        load_articles(out["split"] / "train.parquet"),
        load_articles(out["split"] / "validation.parquet"),
    )
    ids = {a.article_id for a in train + validation}
    assert "prueba::body::2o" not in ids and "prueba::body::1o" in ids
    assert stages["split"].record["heldout_excluded"] == 1
    lines = (out["split"] / "dapt_train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(train) and all(set(json.loads(line)) == {"text"} for line in lines)
    report = (out["split"] / "corpus_report.md").read_text(encoding="utf-8")
    assert "| prueba |" in report and "| otra |" in report and "page_furniture" in report
    assert "## Tokens (tiny-llama tokenizer)" in (out["blocks"] / "corpus_report.md").read_text(encoding="utf-8")
    assert "<h2>Tokens" in (out["blocks"] / "corpus_report.html").read_text(encoding="utf-8")
    blocks = pq.read_table(out["blocks"] / "train_blocks.parquet").column("input_ids").to_pylist()
    assert blocks and all(len(b) == 32 for b in blocks)
    record = stages["blocks"].record
    assert record["train"]["padding_waste"] <= 0.02 and record["train"]["tokens"] > 32
    from transformers import AutoTokenizer

    first_text = json.loads(lines[0])["text"]
    first_ids = AutoTokenizer.from_pretrained(str(tiny_model.path))(first_text, add_special_tokens=False)["input_ids"]
    flat = [token for block in blocks for token in block]
    assert flat[: len(first_ids) + 1] == [*first_ids, record["eos_token_id"]]  # EOS ends each document


def test_changing_a_cleaner_option_changes_only_downstream_keys(
    txt_folder: Path, write_spec, registry, tiny_model
) -> None:
    before = build(write_spec, registry, tiny_model)
    after = build(write_spec, registry, tiny_model, min_run=9)
    same = [name for name in ORDER if before[name].key == after[name].key]
    assert same == ["source"]
    assert "min_run" in json.dumps(after["clean"].config)
    # another tokenizer revision changes the blocks only
    from dataclasses import replace

    loaded = load_spec(Path(txt_folder.parent / "spec.yaml"), profile="cpu")
    other = corpus_stages(loaded, registry, replace(tiny_model, revision="other"))
    for name in ORDER:
        other[name].compute_key()
    assert [n for n in ORDER if other[n].key != after[n].key] == ["blocks"]


def test_heldout_ids_are_part_of_the_split_key(
    txt_folder: Path, write_spec, registry, tiny_model, heldout: Path
) -> None:
    first = build(write_spec, registry, tiny_model)
    heldout.write_text(json.dumps({"heldout_article_ids": ["prueba::body::1o"]}), encoding="utf-8")
    second = build(write_spec, registry, tiny_model)
    assert first["dedup"].key == second["dedup"].key and first["split"].key != second["split"].key


def test_pack_puts_eos_between_documents_and_pads_only_when_no_block_fits() -> None:
    blocks, stats = pack([[1, 2, 3], [4, 5]], eos=0, block_size=4, pad=9, limit=None)
    assert blocks == [[1, 2, 3, 0]] and stats["dropped_tail_tokens"] == 3 and stats["padding_tokens"] == 0
    blocks, stats = pack([[1]], eos=0, block_size=4, pad=9, limit=None)
    assert blocks == [[1, 0, 9, 9]] and stats["padding_tokens"] == 2
    blocks, _ = pack([[1, 2, 3]] * 10, eos=0, block_size=4, pad=9, limit=2)
    assert len(blocks) == 2


def test_articles_round_trip(tmp_path: Path) -> None:
    article = Article(
        "l", "Ley", "ley", "body", "10 Bis", 10, ["Título I"], "Texto.", ["Párrafo reformado DOF 01-01-2000"], True
    )
    write_articles(tmp_path / "articles.parquet", [article])
    assert load_articles(tmp_path) == [article]
    assert pq.read_table(tmp_path / "articles.parquet").column("article_id").to_pylist() == ["l::body::10 Bis"]


def test_components_are_registered_and_validate_reports_missing_paths(registry, write_spec) -> None:
    assert {"raw_txt", "law_folders", "pdf", "markdown", "snapshot"} <= set(registry.names("data_sources"))
    assert {"page_furniture", "unwrap_lines", "reform_notes", "unicode_repair", "numeric_tables", "quality"} <= set(
        registry.names("cleaners")
    )
    assert "mx_articles" in registry.names("structurers")
    assert {"exact", "minhash"} <= set(registry.names("deduplicators"))
    from harness.spec.load import SpecErrors

    path = write_spec("  sources: [{name: raw_txt, options: {path: no/such/folder}}]")
    with pytest.raises(SpecErrors) as err:
        load_spec(path, profile="cpu", registry=registry)
    assert "corpus.sources[0].options.path: missing data path" in err.value.one_line()
