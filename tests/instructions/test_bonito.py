"""The Bonito protocol: prompt format, output parser, transformers backend with the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.components import Article
from harness.errors import SpecError
from harness_plugins.instructions.bonito import (
    TASK_TYPES,
    Bonito,
    BonitoOptions,
    bonito_prompt,
    parse_bonito_output,
    short_task_type,
)
from harness_plugins.instructions.facts import ArticleFacts

from .conftest import make_ctx, make_loaded, split_stage

CONTEXT = "Toda persona tiene derecho a la educación."


def test_prompt_format_matches_bonito() -> None:
    expected = (
        "<|tasktype|>\nextractive question answering\n<|context|>\n"
        "Toda persona tiene derecho a la educación.\n<|task|>\n"
    )
    assert bonito_prompt("exqa", "  " + CONTEXT + "\n") == expected
    assert bonito_prompt("extractive question answering", CONTEXT) == expected


def test_all_sixteen_task_types_short_and_full() -> None:
    assert len(TASK_TYPES) == 16
    for short, full in TASK_TYPES.items():
        assert short_task_type(short) == short == short_task_type(full)
        assert f"<|tasktype|>\n{full}\n" in bonito_prompt(short, CONTEXT)
    with pytest.raises(SpecError, match="unknown Bonito task type 'poetry'"):
        short_task_type("poetry")


def test_parser_well_formed_fills_context() -> None:
    output = "{{context}}\n\nWhat right does every person have?<|pipe|> The right to education."
    assert parse_bonito_output(output, CONTEXT) == (
        f"{CONTEXT}\n\nWhat right does every person have?",
        "The right to education.",
    )


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("{{context}} What right does every person have? The right to education.", "no_pipe"),
        ("Q1 <|pipe|> A1 <|pipe|> A2", "several_pipes"),
        ("<|pipe|> only an answer", "empty_part"),
        ("only a question <|pipe|>   ", "empty_part"),
    ],
)
def test_parser_malformed(output: str, reason: str) -> None:
    assert parse_bonito_output(output, CONTEXT) == reason


def test_malformed_outputs_are_dropped_and_counted() -> None:
    fact = ArticleFacts(
        Article("L", "LEY X", "ley", "body", "3o", 3, [], "Artículo 3o. " + CONTEXT + " El Estado la garantizará.")
    )
    gen = Bonito()
    outputs = [
        "{{context}}\n¿Qué derecho tiene toda persona?<|pipe|>El derecho a la educación.",
        "What is the law about?<|pipe|>Education.",
        "no pipe here",
        "a<|pipe|>b<|pipe|>c",
        "",
    ]
    pairs = [gen.to_pair(o, fact, "exqa", CONTEXT, "transformers") for o in outputs]
    kept = [p for p in pairs if p is not None]
    assert len(kept) == 2
    assert gen.stats == {
        "well_formed": 2,
        "malformed_no_pipe": 1,
        "malformed_several_pipes": 1,
        "malformed_empty": 1,
    }
    spanish, english = kept
    assert spanish.instruction.startswith(CONTEXT) and spanish.context == "" and spanish.language == "es"
    # no {{context}} in the instruction: the article is kept as the pair's context
    assert english.context == CONTEXT and english.language == "en"
    assert spanish.template_or_model == "BatsResearch/bonito-v1 (transformers)"


def test_missing_model_error_names_it_and_how_to_provide(law_articles: list[Article], tmp_path: Path) -> None:
    gen = Bonito(BonitoOptions(backend="transformers"))
    with pytest.raises(SpecError) as info:
        list(gen.generate(law_articles[:3], 2, {"exqa": 1.0}, make_ctx(tmp_path)))
    message = str(info.value)
    assert "BatsResearch/bonito-v1" in message and "not available offline" in message
    assert "huggingface-cli download BatsResearch/bonito-v1" in message and "option 'model'" in message


def test_vllm_backend_missing_is_a_clear_error(law_articles: list[Article], tmp_path: Path, tiny_model) -> None:
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here")
    gen = Bonito(BonitoOptions(model=str(tiny_model.path), backend="vllm"))
    with pytest.raises(SpecError, match="backend 'vllm' needs the vllm package"):
        list(gen.generate(law_articles[:3], 2, {"exqa": 1.0}, make_ctx(tmp_path)))


def test_transformers_backend_end_to_end_with_tiny_model(
    law_articles: list[Article], tmp_path: Path, tiny_model
) -> None:
    """The tiny model writes garbage: every output is malformed, dropped and counted."""
    options = BonitoOptions(
        model=str(tiny_model.path),
        backend="transformers",
        max_new_tokens=12,
        batch_size=3,
        max_context_chars=300,
    )
    gen = Bonito(options)
    pairs = list(gen.generate(law_articles[:20], 5, {"exqa": 0.6, "ynqa": 0.4}, make_ctx(tmp_path)))
    assert gen.stats["prompts"] == 5
    malformed = sum(v for k, v in gen.stats.items() if k.startswith("malformed_"))
    assert malformed + gen.stats["well_formed"] == 5
    assert len(pairs) == gen.stats["well_formed"]


def test_stage_with_bonito_records_its_counters(split_dir: Path, tmp_path: Path, tiny_model, instr_registry) -> None:
    from harness.instructions.stage import instructions_stage

    options = {
        "model": str(tiny_model.path),
        "backend": "transformers",
        "max_new_tokens": 8,
        "max_context_chars": 200,
    }
    section = {
        "generators": [{"name": "bonito", "options": options}],
        "budget": 4,
        "task_types": {"summarization": 1.0},
        "decontamination": {"tasks": []},
    }
    stage = instructions_stage(make_loaded(tmp_path, section), instr_registry, {"split": split_stage()})
    assert stage.config["generators"][0]["options"]["model"] == str(tiny_model.path)
    ctx = make_ctx(tmp_path)
    record = stage.execute(ctx, {"split": split_dir})
    stats = record["generator_stats"]["bonito"]
    assert stats["prompts"] == stats["requested"] == 6  # budget 4 × oversample 1.3, rounded up
    assert stats["yielded"] == stats.get("well_formed", 0)
    card = (ctx.workdir / "README.md").read_text(encoding="utf-8")
    assert "**bonito**" in card and "prompts 6" in card
    rows = [json.loads(line) for line in (ctx.workdir / "instructions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == record["pairs"]
