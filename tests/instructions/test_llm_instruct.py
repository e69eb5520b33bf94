"""``llm_instruct``: the JSON answer is validated; failures are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.components import Article
from harness_plugins.instructions.facts import ArticleFacts
from harness_plugins.instructions.llm_instruct import LLMInstruct, LLMInstructOptions, parse_llm_output

from .conftest import make_ctx


@pytest.mark.parametrize(
    "output",
    [
        '{"instruccion": "¿Qué garantiza el Estado?", "respuesta": "La educación."}',
        'Claro, aquí está:\n```json\n{"instrucción": "¿Qué garantiza el Estado?", "respuesta": "La educación."}\n```',
        'Texto previo {"instruction": "¿Qué garantiza el Estado?", "response": "La educación.", "extra": 1} y después',
    ],
)
def test_valid_json_in_several_shapes(output: str) -> None:
    parsed = parse_llm_output(output)
    assert not isinstance(parsed, str)
    assert (parsed.instruction, parsed.response) == ("¿Qué garantiza el Estado?", "La educación.")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "empty"),
        ("sin json", "invalid_json"),
        ('{"instruccion": "falta cerrar"', "invalid_json"),
        ('["una", "lista"]', "invalid_json"),
        ('{"instruccion": "solo pregunta"}', "invalid_fields"),
        ('{"instruccion": "  ", "respuesta": "x"}', "invalid_fields"),
        ('{"instruccion": 3, "respuesta": "x"}', "invalid_fields"),
    ],
)
def test_invalid_outputs(output: str, reason: str) -> None:
    assert parse_llm_output(output) == reason


def test_prompt_is_spanish_and_names_the_article() -> None:
    fact = ArticleFacts(
        Article(
            "L",
            "LEY FEDERAL DEL TRABAJO",
            "ley",
            "body",
            "76",
            76,
            [],
            "Los trabajadores tendrán vacaciones.",
        )
    )
    prompt = LLMInstruct(LLMInstructOptions(model="x")).prompt_for(fact, "ynqa", "Los trabajadores tendrán vacaciones.")
    assert "artículo 76 de la Ley Federal del Trabajo" in prompt and "sí o no" in prompt and '"instruccion"' in prompt


def test_tiny_model_end_to_end_counts_failures(law_articles: list[Article], tmp_path: Path, tiny_model) -> None:
    options = LLMInstructOptions(
        model=str(tiny_model.path),
        backend="transformers",
        max_new_tokens=10,
        batch_size=2,
        max_context_chars=200,
    )
    gen = LLMInstruct(options)
    pairs = list(gen.generate(law_articles[:10], 4, {"qa": 0.5, "summarization": 0.5}, make_ctx(tmp_path)))
    failed = sum(v for k, v in gen.stats.items() if k.startswith("failed_"))
    assert gen.stats["prompts"] == 4 and failed + gen.stats["valid"] == 4 and len(pairs) == gen.stats["valid"]
