"""The ``instructions`` stage: contract, cache key, outputs, train-only input, dataset card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.components import Article
from harness.errors import SpecError
from harness.instructions.articles import write_articles
from harness.instructions.stage import FIELDS, instructions_stage

from .conftest import make_ctx, make_loaded, split_stage


def key_of(tmp_path: Path, registry, section: dict, seed: int = 0) -> str:
    stage = instructions_stage(make_loaded(tmp_path, section, seed), registry, {"split": split_stage()})
    return stage.compute_key()


def test_builtin_generators_are_registered(registry) -> None:
    names = registry.names("instruction_generators")
    assert {"mx_templates", "bonito", "llm_instruct"} <= set(names)
    assert registry.get("instruction_generators", "mx_templates").plugin == "harness_plugins.instructions"


def test_stage_contract(tmp_path: Path, instr_registry) -> None:
    split = split_stage()
    stage = instructions_stage(make_loaded(tmp_path, {"budget": 10}), instr_registry, {"split": split})
    assert (stage.name, stage.kind) == ("instructions", "instructions")
    assert stage.inputs == {"split": split}
    identity = stage.config["generators"][0]
    assert identity["name"] == "mx_templates" and identity["plugin"] == "harness_plugins.instructions"
    assert set(stage.config) >= {"generators", "budget", "task_types", "filters", "decontamination", "seed"}
    assert len(stage.config["decontamination"]["eval_sha256"]) == 64


def test_cache_key_covers_every_setting(tmp_path: Path, instr_registry) -> None:
    base = {"budget": 10, "decontamination": {"tasks": []}}
    key = key_of(tmp_path, instr_registry, base)
    assert key == key_of(tmp_path, instr_registry, base)
    changed = [
        {**base, "budget": 11},
        {**base, "task_types": {"exqa": 1.0}},
        {**base, "filters": {"max_per_article": 3}},
        {**base, "decontamination": {"tasks": [], "n": 8}},
        {**base, "generators": [{"name": "mx_templates", "options": {"min_words": 12}}]},
        {**base, "seed": 5},
    ]
    keys = {key_of(tmp_path, instr_registry, section) for section in changed}
    assert key not in keys and len(keys) == len(changed)
    assert key_of(tmp_path, instr_registry, base, seed=1) != key  # the spec's seed when none is given
    (tmp_path / "eval.txt").write_text("un texto de evaluación\n", encoding="utf-8")
    with_eval = key_of(
        tmp_path, instr_registry, {**base, "decontamination": {"tasks": [], "extra_files": ["eval.txt"]}}
    )
    (tmp_path / "eval.txt").write_text("otro texto de evaluación\n", encoding="utf-8")
    assert with_eval != key_of(
        tmp_path, instr_registry, {**base, "decontamination": {"tasks": [], "extra_files": ["eval.txt"]}}
    )


def test_outputs_fields_and_card(tmp_path: Path, split_dir: Path, instr_registry) -> None:
    section = {
        "budget": 300,
        "task_types": {
            "exqa": 0.3,
            "ynqa": 0.2,
            "mcqa": 0.1,
            "qa": 0.1,
            "summarization": 0.1,
            "topic_class": 0.1,
            "sent_comp": 0.1,
        },
    }
    stage = instructions_stage(make_loaded(tmp_path, section), instr_registry, {"split": split_stage()})
    ctx = make_ctx(tmp_path)
    record = stage.execute(ctx, {"split": split_dir})
    rows = [json.loads(line) for line in (ctx.workdir / "instructions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == record["pairs"] == 300
    assert all(tuple(row) == FIELDS for row in rows)
    # the mix is followed; a type that decontamination left short is filled from the others
    exqa = record["by_task_type"]["exqa"]
    assert len(record["by_task_type"]) == 7 and 90 <= exqa <= 100
    assert sum(record["by_category"].values()) == 300 and {"constitucion", "codigo", "ley"} <= set(
        record["by_category"]
    )
    card = (ctx.workdir / "README.md").read_text(encoding="utf-8")
    for heading in (
        "### Task type",
        "### Generator",
        "### Law category",
        "## What each step removed",
        "## Decontamination",
    ):
        assert heading in card
    assert "exact duplicate" in card
    # the mix as generated and as kept, and three examples of each kept type
    made = record["generated_by_task_type"]["exqa"]
    assert made >= exqa and f"| exqa | {made:,} | " in card and f"| {exqa:,} | " in card
    assert "## Examples" in card and set(record["examples"]) == set(record["by_task_type"])
    assert all(len(shown) == 3 for shown in record["examples"].values())
    assert card.count("  - response: ") == 3 * len(record["by_task_type"])
    # the card is a Hub dataset card: the folder loads with datasets, record.json beside it
    import datasets
    import yaml

    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["language"] == ["es"] and meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "instructions.jsonl"}
    ]
    loaded = datasets.load_dataset(str(ctx.workdir), cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].num_rows == 300 and loaded["train"].column_names == list(FIELDS)


def test_only_train_articles_are_used(tmp_path: Path, law_articles: list[Article], instr_registry) -> None:
    split = tmp_path / "split"
    split.mkdir()
    write_articles(split / "train.parquet", law_articles[:60])
    secret = Article(
        "SECRET",
        "LEY SECRETA DE VALIDACIÓN",
        "ley",
        "body",
        "1o",
        1,
        ["CAPÍTULO I Secreto"],
        "Esta disposición de validación nunca debe aparecer en los datos de entrenamiento generados.",
    )
    write_articles(split / "validation.parquet", [secret] * 5)
    stage = instructions_stage(
        make_loaded(tmp_path, {"budget": 200, "decontamination": {"tasks": []}}),
        instr_registry,
        {"split": split_stage()},
    )
    ctx = make_ctx(tmp_path)
    stage.execute(ctx, {"split": split})
    text = (ctx.workdir / "instructions.jsonl").read_text(encoding="utf-8")
    assert "SECRET" not in text and "validación nunca" not in text
    assert {json.loads(line)["law_id"] for line in text.splitlines()} <= {a.law_id for a in law_articles[:60]}


def test_legal_qa_articles_never_become_instructions(tmp_path: Path, law_articles: list[Article], instr_registry):
    """The legal-QA items' articles stay in the DAPT split but the stage drops them by id, with
    decontamination off too; with it on, a sister law's copy of one (another id) is caught by text."""
    from harness.evaluation.taskdata import heldout_article_ids, load_items, sft_excluded_article_ids

    rows = load_items("lqa")[:30]
    qa = [Article(r["law_id"], r["law_title"], "ley", "body", r["article_label"], 1, [], r["article"]) for r in rows]
    assert {a.article_id for a in qa} == {r["article_id"] for r in rows}
    sister = Article("OTRA", "LEY HERMANA", "ley", "body", "7", 7, [], rows[0]["article"])
    split = tmp_path / "split"
    split.mkdir()
    write_articles(split / "train.parquet", [*qa, sister, *law_articles[:40]])
    excluded = {(r["law_id"], r["article_label"]) for r in rows}
    evaluation = sft_excluded_article_ids() | heldout_article_ids()
    for decontaminate in (False, True):
        section = {"budget": 400, "decontamination": {"enabled": decontaminate}, "filters": {"max_per_article": 0}}
        stage = instructions_stage(make_loaded(tmp_path, section), instr_registry, {"split": split_stage()})
        ctx = make_ctx(tmp_path / str(decontaminate))
        record = stage.execute(ctx, {"split": split})
        pairs = [json.loads(line) for line in (ctx.workdir / "instructions.jsonl").read_text().splitlines()]
        # the fixture's own articles include some evaluation articles too
        assert record["evaluation_articles_excluded"] == len(qa) + len(
            evaluation & {a.article_id for a in law_articles[:40]}
        )
        assert not {(p["law_id"], p["article_label"]) for p in pairs} & excluded
        assert any(p["law_id"] == "OTRA" for p in pairs) is not decontaminate
        card = (ctx.workdir / "README.md").read_text()
        assert f"{record['evaluation_articles_excluded']} evaluation articles of the training split" in card


def test_unknown_task_type_warns_and_falls_back(tmp_path: Path, split_dir: Path, instr_registry) -> None:
    section = {"budget": 40, "task_types": {"exqa": 0.5, "nli": 0.5}, "decontamination": {"tasks": []}}
    stage = instructions_stage(make_loaded(tmp_path, section), instr_registry, {"split": split_stage()})
    ctx = make_ctx(tmp_path)
    record = stage.execute(ctx, {"split": split_dir})
    assert record["by_task_type"] == {"exqa": 40}
    assert any("nli" in w for w in ctx.warnings)


def test_bad_settings_are_spec_errors(tmp_path: Path, instr_registry) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_loaded(tmp_path, {"filters": {"no_such_filter": True}})
    with pytest.raises(ValidationError):
        make_loaded(tmp_path, {"task_types": {"exqa": -1}})
    loaded = make_loaded(tmp_path, {"generators": [{"name": "mx_templates", "options": {"bogus": 1}}]})
    with pytest.raises(SpecError, match="bogus"):
        instructions_stage(loaded, instr_registry, {"split": split_stage()})


def test_a_generator_left_short_by_the_filters_is_asked_again(tmp_path: Path, split_dir: Path, instr_registry) -> None:
    section = {
        "budget": 150,
        "task_types": {"exqa": 0.5, "qa": 0.5},
        "filters": {"oversample": 1.0, "max_per_article": 1},
        "decontamination": {"tasks": []},
    }
    stage = instructions_stage(make_loaded(tmp_path, section), instr_registry, {"split": split_stage()})
    record = stage.execute(make_ctx(tmp_path), {"split": split_dir})
    stats = record["generator_stats"]["mx_templates"]
    assert record["removed"]["per_article_cap"] > 0
    assert stats["requested"] > 150 and record["pairs"] == 150
