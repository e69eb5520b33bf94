"""One test per hook: a tiny plugin on a fresh manager registers a component of each family."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import pluggy

from harness import hookimpl, hookspecs
from harness.components import (
    Article,
    Cleaner,
    CleanResult,
    DataSource,
    Deduplicator,
    Document,
    Dropped,
    InstructionGenerator,
    InstructionPair,
    Metric,
    MetricSpec,
    ModelSource,
    ReportFormat,
    ResolvedModel,
    Structurer,
    Trainer,
    TrainJob,
    TrainResult,
)
from harness.context import StageContext
from harness.plugins import build_registry


def registry_with(plugin: object) -> Any:
    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="test-plugin")
    return build_registry(pm)


def ctx(tmp_path: Path) -> StageContext:
    return StageContext("test", tmp_path, tmp_path, tmp_path)


class Letters(DataSource):
    def documents(self, ctx: StageContext) -> Iterator[Document]:
        for law in ("a", "b"):
            ctx.report_input(law, "loaded")
            yield Document(law, law.upper(), "ley", f"Artículo 1o. Texto {law}.")


def test_register_data_sources(tmp_path: Path) -> None:
    class P:
        @hookimpl
        def register_data_sources(self, register) -> None:
            register("letters", Letters)

    c = ctx(tmp_path)
    docs = list(registry_with(P()).get("data_sources", "letters").cls().documents(c))
    assert [d.id for d in docs] == ["a", "b"] and c.inputs["b"]["status"] == "loaded"


class DropShort(Cleaner):
    def clean(self, doc: Document) -> CleanResult:
        return CleanResult(Dropped("too short")) if len(doc.text) < 5 else CleanResult(doc)


def test_register_cleaners() -> None:
    class P:
        @hookimpl
        def register_cleaners(self, register) -> None:
            register("drop_short", DropShort)

    cleaner = registry_with(P()).get("cleaners", "drop_short").cls()
    assert isinstance(cleaner.clean(Document("a", "A", "ley", "abc")).document, Dropped)
    assert isinstance(cleaner.clean(Document("a", "A", "ley", "abcdef")).document, Document)


class OneArticle(Structurer):
    def structure(self, doc: Document) -> list[Article]:
        return [Article(doc.id, doc.title, doc.category, "body", "1o", 1, [], doc.text)]


def test_register_structurers() -> None:
    class P:
        @hookimpl
        def register_structurers(self, register) -> None:
            register("one", OneArticle)

    articles = registry_with(P()).get("structurers", "one").cls().structure(Document("a", "A", "ley", "t"))
    assert articles[0].article_id == "a::body::1o"


class ByText(Deduplicator):
    def deduplicate(self, articles: Sequence[Article]) -> tuple[list[Article], dict[str, Any]]:
        seen: dict[str, Article] = {}
        for article in articles:
            seen.setdefault(article.text, article)
        return list(seen.values()), {"removed": len(articles) - len(seen)}


def test_register_deduplicators() -> None:
    class P:
        @hookimpl
        def register_deduplicators(self, register) -> None:
            register("by_text", ByText)

    arts = [Article("a", "A", "ley", "body", str(i), i, [], "same") for i in range(3)]
    kept, report = registry_with(P()).get("deduplicators", "by_text").cls().deduplicate(arts)
    assert len(kept) == 1 and report == {"removed": 2}


class Echo(InstructionGenerator):
    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        for article in articles[:budget]:
            yield InstructionPair(
                "Repite el artículo.", article.text, "text_gen", article.law_id, article.label, "echo", "t1"
            )


def test_register_instruction_generators(tmp_path: Path) -> None:
    class P:
        @hookimpl
        def register_instruction_generators(self, register) -> None:
            register("echo", Echo)

    arts = [Article("a", "A", "ley", "body", str(i), i, [], f"texto {i}") for i in range(5)]
    pairs = list(registry_with(P()).get("instruction_generators", "echo").cls().generate(arts, 2, {}, ctx(tmp_path)))
    assert [p.response for p in pairs] == ["texto 0", "texto 1"]


class CountingTrainer(Trainer):
    methods = ("none",)

    def train(self, job: TrainJob, ctx: StageContext) -> TrainResult:
        (job.output_dir / "adapter_config.json").write_text("{}")
        return TrainResult({"trainable_params": 0})


def test_register_trainers(tmp_path: Path) -> None:
    class P:
        @hookimpl
        def register_trainers(self, register) -> None:
            register("counting", CountingTrainer)

    cls = registry_with(P()).get("trainers", "counting").cls
    job = TrainJob(ResolvedModel("m", tmp_path, "t"), "float32", tmp_path, None, "none", {}, {}, tmp_path, tmp_path, 0)
    assert cls().train(job, ctx(tmp_path)).metrics == {"trainable_params": 0}
    assert cls.methods == ("none",)


class LengthRatio(Metric):
    def spec(self) -> MetricSpec:
        return MetricSpec(lambda references, predictions: len(predictions[0]) / max(1, len(references[0])), mean)


def test_register_metrics() -> None:
    class P:
        @hookimpl
        def register_metrics(self, register) -> None:
            register("length_ratio", LengthRatio)

    spec = registry_with(P()).get("metrics", "length_ratio").cls().spec()
    assert spec.fn(references=["abcd"], predictions=["ab"]) == 0.5


class Fixed(ModelSource):
    def resolve(self, reference: str) -> ResolvedModel | None:
        return ResolvedModel(reference, Path("/models") / reference, "fixed") if reference.startswith("x/") else None


def test_register_model_sources() -> None:
    class P:
        @hookimpl
        def register_model_sources(self, register) -> None:
            register("fixed", Fixed)

    source = registry_with(P()).get("model_sources", "fixed").cls()
    assert source.resolve("y/z") is None
    assert source.resolve("x/m").source == "fixed"


class Plain(ReportFormat):
    extension = "txt"

    def render(self, board: Any) -> str:
        return "\n".join(board)


def test_register_report_formats() -> None:
    class P:
        @hookimpl
        def register_report_formats(self, register) -> None:
            register("plain", Plain)

    fmt = registry_with(P()).get("report_formats", "plain").cls()
    assert fmt.render(["a", "b"]) == "a\nb" and fmt.extension == "txt"
