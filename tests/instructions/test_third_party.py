"""A third-party generator registered on a fresh plugin manager, as docs/generators.md shows."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pluggy
import pytest

from harness import hookimpl, hookspecs
from harness.components import Article, InstructionGenerator, InstructionPair, Options
from harness.context import StageContext
from harness.errors import PluginError
from harness.instructions.stage import instructions_stage
from harness.plugins import build_registry

from .conftest import make_ctx, make_loaded, split_stage


class CiteOptions(Options):
    prefix: str = "¿Qué ley contiene el artículo"


class CiteArticle(InstructionGenerator):
    """The example of docs/generators.md."""

    Options = CiteOptions
    version = "1"
    task_types = ("topic_class",)

    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        rng = random.Random(ctx.seed)
        chosen = [a for a in articles if not a.derogated]
        rng.shuffle(chosen)
        for article in chosen[:budget]:
            yield InstructionPair(
                instruction=f"{self.options.prefix} que dice: «{article.text[:300]}»?",
                response=article.law_title,
                task_type="topic_class",
                law_id=article.law_id,
                article_label=article.label,
                generator="whatever",
                template_or_model="cite.0",
            )


class Broken(InstructionGenerator):
    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        raise ZeroDivisionError("boom")
        yield


class ThirdParty:
    @hookimpl
    def register_instruction_generators(self, register: Callable[[str, type], None]) -> None:
        register("cite_article", CiteArticle)
        register("broken", Broken)


@pytest.fixture
def registry3() -> object:
    import harness_plugins.instructions

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(harness_plugins.instructions, name="harness_plugins.instructions")
    pm.register(ThirdParty(), name="third_party")
    pm.harness_origins = {
        "harness_plugins.instructions": ("builtin", "harness"),
        "third_party": ("entry point", "my-dist"),
    }
    return build_registry(pm)


def test_third_party_generator_runs_beside_a_builtin(tmp_path: Path, split_dir: Path, registry3) -> None:
    section = {
        "generators": ["mx_templates", {"name": "cite_article", "options": {"prefix": "¿De qué ordenamiento es"}}],
        "budget": 100,
        "task_types": {"exqa": 0.5, "topic_class": 0.5},
        "decontamination": {"tasks": []},
    }
    stage = instructions_stage(make_loaded(tmp_path, section), registry3, {"split": split_stage()})
    assert stage.config["generators"][1]["plugin"] == "third_party"
    ctx = make_ctx(tmp_path)
    record = stage.execute(ctx, {"split": split_dir})
    assert record["by_generator"] == {"mx_templates": 50, "cite_article": 50}
    rows = [json.loads(x) for x in (ctx.workdir / "instructions.jsonl").read_text(encoding="utf-8").splitlines()]
    cited = [r for r in rows if r["generator"] == "cite_article"]
    assert cited and all(r["instruction"].startswith("¿De qué ordenamiento es") for r in cited)
    assert {r["task_type"] for r in cited} == {"topic_class"}


def test_a_crashing_third_party_generator_is_a_plugin_error(tmp_path: Path, split_dir: Path, registry3) -> None:
    section = {"generators": ["broken"], "budget": 10, "decontamination": {"tasks": []}}
    stage = instructions_stage(make_loaded(tmp_path, section), registry3, {"split": split_stage()})
    with pytest.raises(PluginError) as info:
        stage.execute(make_ctx(tmp_path), {"split": split_dir})
    assert info.value.exit_code == 3 and info.value.distribution == "my-dist" and "boom" in str(info.value)
