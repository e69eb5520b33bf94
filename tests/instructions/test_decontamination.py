"""Decontamination: planted overlaps are removed, near misses kept, the stage reports the count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.components import InstructionPair
from harness.instructions.decontaminate import Decontaminator, load_eval_texts, read_text_file
from harness.instructions.text import tokens

from .conftest import make_ctx, make_loaded, split_stage

EVAL = (
    "Toda persona tiene derecho a la educación y el Estado impartirá y garantizará la educación inicial, "
    "preescolar, primaria y secundaria en todo el territorio nacional."
)


def pair(instruction: str = "Pregunta de prueba", context: str = "", response: str = "Respuesta") -> InstructionPair:
    return InstructionPair(instruction, response, "qa", "L", "1", "g", "t", context)


def thirteen(text: str, start: int = 0) -> str:
    return " ".join(tokens(text)[start : start + 13])


def test_overlap_in_any_field_is_found() -> None:
    index = Decontaminator([EVAL], n=13)
    assert index.contaminated(pair(response="Dice así: " + thirteen(EVAL, 2) + " y más."))
    assert index.contaminated(pair(context="Contexto. " + thirteen(EVAL, 5)))
    assert index.contaminated(pair(instruction="¿Es cierto que " + thirteen(EVAL) + "?"))


def test_overlap_straddling_fields_is_found() -> None:
    words = tokens(EVAL)
    index = Decontaminator([EVAL], n=13)
    # 6 tokens at the end of the instruction, 7 at the start of the context
    straddling = pair(
        instruction="Lee: " + " ".join(words[:6]),
        context=" ".join(words[6:13]) + " fin del texto largo aquí ya",
    )
    assert index.contaminated(straddling)
    # context shorter than n-1 tokens: the n-gram runs instruction → context → response
    across = pair(instruction=" ".join(words[:5]), context=" ".join(words[5:8]), response=" ".join(words[8:13]))
    assert index.contaminated(across)


def test_case_and_punctuation_do_not_hide_overlap() -> None:
    index = Decontaminator([EVAL], n=13)
    shouted = thirteen(EVAL).upper().replace(" ", " , ")
    assert index.contaminated(pair(response=shouted))


def test_twelve_tokens_are_not_an_overlap_but_n_is_configurable() -> None:
    twelve = " ".join(tokens(EVAL)[:12])
    assert not Decontaminator([EVAL], n=13).contaminated(pair(response=twelve))
    assert Decontaminator([EVAL], n=12).contaminated(pair(response=twelve))
    assert not Decontaminator([], n=13).contaminated(pair(response=EVAL))


def test_extra_files_jsonl_and_txt(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"prompt": "uno", "choices": ["dos", {"x": "tres"}], "gold": 1}) + "\n", encoding="utf-8"
    )
    (tmp_path / "b.txt").write_text("cuatro\n\ncinco\n", encoding="utf-8")
    assert read_text_file(tmp_path / "a.jsonl") == ["uno", "dos", "tres"]
    texts = load_eval_texts([], ["a.jsonl", "b.txt"], tmp_path)
    assert texts.texts == ["uno", "dos", "tres", "cuatro", "cinco"]
    assert len(texts.digest) == 64


def _has_gram(text: str, grams: set[str], n: int = 13) -> bool:
    words = tokens(text)
    return any(" ".join(words[i : i + n]) in grams for i in range(len(words) - n + 1))


def _run(
    tmp_path: Path, split_dir: Path, registry, decontamination: dict, budget: int = 400
) -> tuple[dict, list[dict], object]:
    from harness.instructions.stage import instructions_stage

    loaded = make_loaded(tmp_path, {"budget": budget, "decontamination": decontamination})
    stage = instructions_stage(loaded, registry, {"split": split_stage()})
    ctx = make_ctx(tmp_path)
    record = stage.execute(ctx, {"split": split_dir})
    rows = [json.loads(line) for line in (ctx.workdir / "instructions.jsonl").read_text(encoding="utf-8").splitlines()]
    return record, rows, ctx


def test_stage_removes_a_planted_overlap(tmp_path: Path, split_dir: Path, law_articles, instr_registry) -> None:
    """Plant an evaluation item copied from a training article: its pairs must go."""
    planted = max((a for a in law_articles if not a.derogated), key=lambda a: len(a.text.split()))
    (tmp_path / "eval.txt").write_text(" ".join(planted.text.split()) + "\n", encoding="utf-8")
    words = tokens(planted.text)
    grams = {" ".join(words[i : i + 13]) for i in range(len(words) - 12)}

    clean_dir = tmp_path / "without"
    clean_dir.mkdir()
    _, before, _ = _run(clean_dir, split_dir, instr_registry, {"tasks": []})
    overlapping = [r for r in before if any(_has_gram(r[f], grams) for f in ("instruction", "context", "response"))]
    assert overlapping, "the planted article should produce overlapping pairs when not decontaminated"

    record, after, _ = _run(tmp_path, split_dir, instr_registry, {"tasks": [], "extra_files": ["eval.txt"]})
    assert record["decontaminated"] >= 1
    for row in after:
        joined = "\n".join((row["instruction"], row["context"], row["response"]))
        assert not _has_gram(joined, grams), row
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert f"| {record['decontaminated']:,} |" in card


def test_disabled_decontamination_keeps_overlaps(tmp_path: Path, split_dir: Path, law_articles, instr_registry) -> None:
    planted = law_articles[0]
    (tmp_path / "eval.txt").write_text(planted.text.replace("\n", " ") + "\n", encoding="utf-8")
    record, _, _ = _run(
        tmp_path, split_dir, instr_registry, {"enabled": False, "extra_files": ["eval.txt"]}, budget=100
    )
    assert record["decontaminated"] == 0
    assert "NOT checked" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


def test_missing_task_data_warns(
    tmp_path: Path, split_dir: Path, instr_registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.evaluation.taskdata as taskdata

    monkeypatch.setattr(taskdata, "data_dir", lambda: tmp_path / "no-such-folder")
    record, rows, ctx = _run(tmp_path, split_dir, instr_registry, {"tasks": ["mx_legal"]}, budget=50)
    assert rows
    assert record["decontamination"]["missing"]
    assert any("no evaluation texts" in w for w in ctx.warnings)


def test_frozen_eval_data_has_no_13gram_overlap(tmp_path: Path, split_dir: Path, instr_registry) -> None:
    """With the shipped mx_legal data: check every output pair against every eval text by brute force."""
    from harness.evaluation.taskdata import iter_eval_texts

    try:
        texts = list(iter_eval_texts(["mx_legal"]))
    except Exception as exc:  # noqa: BLE001 - the frozen data is another issue's output
        pytest.skip(f"frozen task data not available: {exc}")
    record, rows, _ = _run(tmp_path, split_dir, instr_registry, {"tasks": ["mx_legal"]})
    assert record["decontamination"]["eval_texts"] == len(texts)
    grams = set()
    for text in texts:
        words = tokens(text)
        grams.update(" ".join(words[i : i + 13]) for i in range(len(words) - 12))
    for row in rows:
        assert not _has_gram("\n".join((row["instruction"], row["context"], row["response"])), grams)


WORDS = ["ley", "artículo", "de", "la", "federal", "juez", "plazo", "días"]
_field = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    instruction=_field,
    context=_field,
    response=_field,
    evaluation=st.lists(st.sampled_from(WORDS), min_size=1, max_size=14),
    n=st.integers(2, 5),
)
def test_matches_brute_force_over_the_joined_text(
    instruction: str, context: str, response: str, evaluation: list[str], n: int
) -> None:
    """The per-field check with cached contexts equals testing every n-gram of the joined text."""
    eval_text = " ".join(evaluation)
    words = tokens(" ".join((instruction, context, response)))
    grams = {tuple(evaluation[i : i + n]) for i in range(len(evaluation) - n + 1)}
    expected = any(tuple(words[i : i + n]) in grams for i in range(len(words) - n + 1))
    assert Decontaminator([eval_text], n=n).contaminated(pair(instruction, context, response)) == expected
